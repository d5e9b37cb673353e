from django import forms
from django.utils.translation import gettext_lazy as _


class RenameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64, strip=True)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name or not name.isprintable():
            raise forms.ValidationError(_("Use a short name with letters, digits or spaces."))
        return name
