"""The admin login's second-step form: one code, a TOTP code or a recovery code."""

from django import forms


class CodeForm(forms.Form):
    # Six digits, or a recovery code (20 hex digits in groups); bounded like the API's.
    code = forms.CharField(
        label="Code",
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )
