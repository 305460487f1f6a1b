import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.core import addresses
from leadflow.core.errors import InvalidInput
from leadflow.leads import quality


def test_email_is_trimmed_and_lower_cased():
    assert addresses.normalise_email("  Ana.Lima@Example.COM ") == "ana.lima@example.com"


def test_empty_email_is_none():
    assert addresses.normalise_email("   ") is None
    assert addresses.normalise_email(None) is None


def test_bad_email_syntax_raises_with_field():
    with pytest.raises(InvalidInput) as exc:
        addresses.normalise_email("ana@@example")
    assert exc.value.field == "email"


_ADDRESSES = st.one_of(
    st.emails(),
    st.builds(lambda u, d: f"{u}@{d}", st.text(max_size=12), st.text(max_size=12)),
    st.sampled_from(["a@localhost", "a@[127.0.0.1]", "a@[::1]", "a@[999.1.1.1]", "a@b",
                     '"two words"@example.com', "a@-x.com", "a@x..com", "a@b.c"]))


@settings(max_examples=300)
@given(_ADDRESSES)
def test_email_check_agrees_with_djangos_validator(email):
    from django.core.exceptions import ValidationError
    from django.core.validators import EmailValidator

    try:
        EmailValidator()(email)
        expected = len(email) <= 254
    except ValidationError:
        expected = False
    assert addresses.is_valid_email(email) is expected


def test_disposable_domains_and_their_subdomains_are_detected():
    assert quality.is_disposable("x@mailinator.com")
    assert quality.is_disposable("x@eu.mailinator.com")
    assert not quality.is_disposable("x@example.com")
    assert not quality.is_disposable("x@gmail.com")


@pytest.mark.parametrize(("raw", "hint", "expected"), [
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("+33 6 12 34 56 78", None, "+33612345678"),
    ("0033 6 12 34 56 78", None, "+33612345678"),
    ("(650) 253-0000", "US", "+16502530000"),
    ("+44 20 7946 0958", "FR", "+442079460958"),
])
def test_valid_phones_become_e164(raw, hint, expected):
    assert quality.normalise_phone(raw, hint) == (expected, None)


@pytest.mark.parametrize("raw", ["123", "call me", "+33 1", "06 12 34 56 78"])
def test_invalid_phone_is_kept_and_flagged(raw):
    # A national number without a country cannot be read: flagged, not guessed.
    assert quality.normalise_phone(raw) == (raw, quality.INVALID_PHONE)


def test_empty_phone_is_no_problem():
    assert quality.normalise_phone("  ", "FR") == ("", None)


@pytest.mark.parametrize(("raw", "code"), [
    ("FR", "FR"), ("fr", "FR"), ("FRA", "FR"), ("France", "FR"), ("United States", "US"),
    ("USA", "US"), ("U.S.A.", "US"), ("États-Unis", "US"), ("Royaume-Uni", "GB"),
    ("UK", "GB"), ("United Kingdom", "GB"), ("Allemagne", "DE"), ("germany", "DE"),
    ("Côte d'Ivoire", "CI"), ("South Korea", "KR"), ("India", "IN"),
])
def test_countries_from_codes_and_english_or_french_names(raw, code):
    assert quality.normalise_country(raw) == code


def test_unknown_and_empty_countries():
    assert quality.normalise_country("Asia/Pacific Region") is None
    assert quality.normalise_country("") == ""


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789 +()-.", max_size=20),
       st.sampled_from([None, "FR", "US", "GB", "IN"]))
def test_normalise_phone_is_idempotent(raw, hint):
    value, flag = quality.normalise_phone(raw, hint)
    assert quality.normalise_phone(value, hint) == (value, flag)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=30), st.sampled_from(
    ["France", "USA", "Royaume-Uni", "deutschland", "Etats Unis", "gb", "XK"])))
def test_normalise_country_is_idempotent(raw):
    code = quality.normalise_country(raw)
    if code:
        assert quality.normalise_country(code) == code


def test_a_national_number_without_country_reads_in_the_default_region(settings):
    settings.DEFAULT_COUNTRY = "FR"
    assert quality.normalise_phone("06 12 34 56 78") == ("+33612345678", None)
    # The lead's own country still wins over the installation's default.
    assert quality.normalise_phone("020 7946 0958", "GB") == ("+442079460958", None)


def test_without_a_default_region_a_national_number_is_flagged(settings):
    settings.DEFAULT_COUNTRY = ""
    assert quality.normalise_phone("06 12 34 56 78") == ("06 12 34 56 78", quality.INVALID_PHONE)
