"""The language walk's words: what the catalogs say in a language, and a few words written out
here so that a page left in English cannot pass for a translated one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from monitor.presentation import translation, wording

# The languages the walk takes, and the direction each page must run in.
DIRECTIONS = {"en": "ltr", "km": "ltr", "fr": "ltr", "ar": "rtl"}


def say(language: str, message: str, **variables: object) -> str:
    """``message`` as the catalog of ``language`` words it (placeholders filled in it too)."""
    with translation.using_language(language):
        filled = {name: str(value) for name, value in variables.items()}
        return translation.gettext(message, **filled)


def status_in(language: str, status: str) -> str:
    """A custody status as ``language`` names it (``house_arrest``: ``assignation à résidence``)."""
    with translation.using_language(language):
        return wording.status_label(status) or status


def date_in(language: str, day: dt.date) -> str:
    """A day as Babel writes it in ``language``: ``10 septembre 2018``."""
    return translation.format_date(day, "long", language)


@dataclass(frozen=True)
class Written:
    """Words of the walk written out by hand (and checked against the catalog by the test)."""

    menu: str  # the language's button in the menu, named in itself
    dashboard: str
    house_arrest: str
    moved_on: str  # 10 September 2018
    alert_subject: str  # Mao Monyvann jailed — was at liberty
    alert_status_line: str
    dossier_words: tuple[str, ...]
    dossier_title: str


WRITTEN = {
    "km": Written(
        menu="ខ្មែរ",
        dashboard="ផ្ទាំងសង្ខេប",
        house_arrest="ឃុំខ្លួននៅផ្ទះ",
        moved_on="10 កញ្ញា 2018",
        alert_subject="Mao Monyvann ត្រូវបានដាក់ពន្ធនាគារ — ធ្លាប់មានសេរីភាព",
        alert_status_line="ស្ថានភាពឃុំខ្លួន៖ មានសេរីភាព → ជាប់ពន្ធនាគារ",
        dossier_words=("មាតិកា", "សេចក្ដីសង្ខេប", "មនុស្សក្នុងឯកសារនេះ", "កាលប្បវត្តិ"),
        dossier_title="CNRP — ឯកសារអង្គការ",
    ),
    "fr": Written(
        menu="Français",
        dashboard="Tableau de bord",
        house_arrest="assignation à résidence",
        moved_on="10 septembre 2018",
        alert_subject="Mao Monyvann détenu·e — était en liberté",
        alert_status_line="Situation de détention\u00a0: en liberté → détenu",
        dossier_words=("Sommaire", "Résumé", "Personnes dans ce dossier", "Chronologie"),
        dossier_title="CNRP — dossier d’organisation",
    ),
    "ar": Written(
        menu="العربية",
        dashboard="لوحة المتابعة",
        house_arrest="إقامة جبرية",
        moved_on="10 سبتمبر 2018",
        alert_subject="سجن Mao Monyvann — كان طليقًا",
        alert_status_line="وضع الاحتجاز: طليق ← مسجون",
        dossier_words=("المحتويات", "الملخص", "الأشخاص في هذا الملف", "التسلسل الزمني"),
        dossier_title="CNRP — ملف المنظمة",
    ),
}

# English an email or a dossier must not keep once translated (sentences, not names or data).
ENGLISH_IN_EMAIL = (
    "Custody status",
    "You follow",
    "You receive this",
    "Unsubscribe",
    "was at liberty",
    " jailed",
)
ENGLISH_IN_DOSSIER = (
    "Contents",
    "Summary",
    "People in this dossier",
    "Timeline",
    "Charges",
    "Data as of",
    "house arrest",
    "at liberty",
)
