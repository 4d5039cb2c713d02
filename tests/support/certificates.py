"""Self-signed certificates for the servers tests start (PostgreSQL, SMTP), made with openssl."""

import shutil
import subprocess
from pathlib import Path


class CertificateUnavailable(RuntimeError):
    """openssl is not installed, or could not make the certificate."""


def self_signed_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """`name.key` and `name.crt` in `directory`: a certificate for localhost and 127.0.0.1 (so
    that clients checking the name accept it), valid for two days, its key private to its owner."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise CertificateUnavailable("openssl is not installed")
    key, cert = directory / f"{name}.key", directory / f"{name}.crt"
    result = subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        reason = result.stderr.strip()
        raise CertificateUnavailable(f"openssl could not make a certificate: {reason}")
    key.chmod(0o600)
    return key, cert
