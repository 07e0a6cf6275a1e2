"""Personal data at rest: encryption, lookup hashes, masks; and what the database actually holds."""

import base64

import pytest
from cryptography.exceptions import InvalidTag
from django.db import connection

from doorstep import pii
from doorstep.intake.importer import import_portfolio
from doorstep.ledger import privacy
from doorstep.ledger.models import Borrower

NATIONAL_ID = "440305198803121233"
PHONE = "13812345678"


@pytest.fixture
def cipher() -> pii.PiiCipher:
    return pii.PiiCipher.from_text(pii.new_key())


def test_round_trip(cipher):
    token = cipher.encrypt(NATIONAL_ID)

    assert token.startswith("v1:")
    assert NATIONAL_ID not in token
    assert cipher.decrypt(token) == NATIONAL_ID


def test_round_trip_of_non_ascii_text(cipher):
    assert cipher.decrypt(cipher.encrypt("广东省深圳市南山区")) == "广东省深圳市南山区"


def test_ciphertexts_differ_per_call_but_lookup_hashes_are_equal(cipher):
    first, second = cipher.encrypt(PHONE), cipher.encrypt(PHONE)

    assert first != second
    assert cipher.decrypt(first) == cipher.decrypt(second) == PHONE
    assert cipher.lookup_hash(PHONE) == cipher.lookup_hash(PHONE)
    assert len(cipher.lookup_hash(PHONE)) == 64


def test_lookup_hash_ignores_spaces_and_case(cipher):
    assert cipher.lookup_hash("44030519880312123x") == cipher.lookup_hash(" 440305 19880312 123X ")
    assert cipher.lookup_hash("138 1234 5678") == cipher.lookup_hash(PHONE)
    assert cipher.lookup_hash(PHONE) != cipher.lookup_hash("13812345679")


def test_lookup_hash_depends_on_the_key(cipher):
    other = pii.PiiCipher.from_text(pii.new_key())

    assert cipher.lookup_hash(PHONE) != other.lookup_hash(PHONE)


def test_batch_matches_single_value_operations(cipher):
    tokens, hashes = cipher.batch([NATIONAL_ID, PHONE])

    assert [cipher.decrypt(t) for t in tokens] == [NATIONAL_ID, PHONE]
    assert hashes == [cipher.lookup_hash(NATIONAL_ID), cipher.lookup_hash(PHONE)]


def test_batch_gives_every_value_its_own_nonce(cipher):
    """The batch reads its nonces in one go and slices them: no two rows (of one batch or of
    two) may share one, or AES-GCM's confidentiality and integrity both fail for the pair."""
    first, _ = cipher.batch([PHONE] * 5_000)
    second, _ = cipher.batch([PHONE] * 5_000)
    nonces = [base64.urlsafe_b64decode(token[3:])[:12] for token in first + second]

    assert len(set(nonces)) == 10_000
    assert {len(nonce) for nonce in nonces} == {12}
    assert {cipher.decrypt(token) for token in first + second} == {PHONE}


def test_batch_of_nothing(cipher):
    assert cipher.batch([]) == ([], [])


def test_masks():
    assert pii.mask_national_id("440305198803121234") == "4403**********1234"
    assert pii.mask_national_id("44030519880312123x") == "4403**********123X"
    assert pii.mask_phone("13812345678") == "138****5678"
    assert pii.mask_phone("138 1234 5678") == "138****5678"
    assert pii.mask_phone("1234567") == "*******"


def test_wrong_key_fails_to_decrypt(cipher):
    token = cipher.encrypt(NATIONAL_ID)
    other = pii.PiiCipher.from_text(pii.new_key())

    with pytest.raises(InvalidTag):
        other.decrypt(token)


def test_tampered_ciphertext_fails_to_decrypt(cipher):
    raw = bytearray(base64.urlsafe_b64decode(cipher.encrypt(NATIONAL_ID)[3:]))
    raw[20] ^= 0x01  # one bit of the sealed text, after the 12-byte nonce
    tampered = "v1:" + base64.urlsafe_b64encode(bytes(raw)).decode()

    with pytest.raises(InvalidTag):
        cipher.decrypt(tampered)


@pytest.mark.parametrize(
    ("text", "message"),
    [("not base64!", "not valid base64"), ("c2hvcnQ=", "must decode to 32 bytes")],
)
def test_bad_keys_are_refused(text, message):
    with pytest.raises(pii.PiiKeyError, match=message):
        pii.PiiCipher.from_text(text)


def test_unknown_ciphertext_version_is_refused(cipher):
    with pytest.raises(pii.PiiKeyError, match="unknown ciphertext version"):
        cipher.decrypt("v0:abc")


@pytest.mark.django_db
def test_imported_borrower_row_holds_no_identifier_in_clear(portfolio_dir):
    import_portfolio(portfolio_dir)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM ledger_borrower WHERE id = %s", ["B0001"])
        row = cursor.fetchone()
    stored = " ".join(str(value) for value in row)

    assert "张伟" in stored  # the row really is B0001's
    assert NATIONAL_ID not in stored
    assert PHONE not in stored
    assert "19880312" not in stored
    assert "12345678" not in stored
    borrower = Borrower.objects.get(pk="B0001")
    assert borrower.national_id() == NATIONAL_ID
    assert borrower.phone() == PHONE
    assert borrower.national_id_masked == "4403**********1233"
    assert borrower.phone_masked == "138****5678"
    cipher = privacy.configured_cipher()
    assert Borrower.objects.get(national_id_hash=cipher.lookup_hash(NATIONAL_ID)) == borrower
    assert Borrower.objects.get(phone_hash=cipher.lookup_hash("138 1234 5678")) == borrower
