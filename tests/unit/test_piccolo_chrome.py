"""piccolo-admin's interface in the reader's language: every string it translates is in our
catalogues, every literal its bundle shows untranslated is patched to look itself up, and the
page tells the browser its language, direction and time zone."""

from __future__ import annotations

from piccolo_admin.translations.data import ENGLISH

from admin.piccolo_chrome import (
    BUNDLE_PATCHES,
    CHROME,
    bundle_path,
    localised_index,
    patched_bundle,
    piccolo_translations,
)


def test_every_string_piccolo_admin_translates_is_in_our_catalogues() -> None:
    assert set(ENGLISH.translations) <= set(CHROME), "add the new keys to admin.piccolo_chrome"


def test_the_bundle_is_served_patched_where_it_shows_english_of_its_own() -> None:
    bundle = bundle_path().read_text()
    for old, _ in BUNDLE_PATCHES:
        assert old in bundle, f"piccolo-admin's bundle no longer has {old!r}"
    patched = patched_bundle().decode()
    assert 'showSuccess(bgT("Successfully applied filter"))' in patched
    assert "bgTable(this.tableName)" in patched and '"NULL"' not in patched


def test_arabic_and_french_are_offered_with_our_translations() -> None:
    languages = {translation.language_code: translation for translation in piccolo_translations()}
    assert set(languages) == {"en", "fr", "ar"}
    assert languages["ar"].language_name == "العربية"
    assert languages["ar"].translations["Filter"] == "تصفية"
    assert languages["fr"].translations["Filter"] == "Filtre"  # piccolo-admin's own French


def test_the_page_says_its_language_direction_and_the_readers_time_zone() -> None:
    page = localised_index(
        '<html lang="en"><head></head><body></body></html>', "ar", "Africa/Casablanca"
    ).decode()
    assert page.startswith('<html lang="ar" dir="rtl">')
    assert "Africa/Casablanca" in page and "قائمتي" in page  # my_queue's title
    assert "</script>" in page and "<\\/" not in page.split("<script>")[0]
