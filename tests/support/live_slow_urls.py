"""The service's URLs plus tests.support.slow_urls' slow views, for live servers started with
TEST_ROOT_URLCONF=tests.support.live_slow_urls (shutdown tests need requests that take a while)."""

from project.urls import handler400, handler403, handler404, handler500, urlpatterns
from tests.support import slow_urls

urlpatterns = [*slow_urls.urlpatterns, *urlpatterns]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
