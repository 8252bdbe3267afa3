import pytest

from autopilot.github import signature

# the example GitHub publishes in "Validating webhook deliveries"
DOC_SECRET = "It's a Secret to Everybody"
DOC_BODY = b"Hello, World!"
DOC_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_sign_matches_githubs_documented_example():
    assert signature.sign(DOC_SECRET, DOC_BODY) == DOC_SIGNATURE


def test_verify_accepts_the_documented_example():
    assert signature.verify(DOC_SECRET, DOC_BODY, DOC_SIGNATURE)


@pytest.mark.parametrize(
    "secret, body, header",
    [
        ("wrong secret", DOC_BODY, DOC_SIGNATURE),
        (DOC_SECRET, b"Hello, World?", DOC_SIGNATURE),
        (DOC_SECRET, DOC_BODY, DOC_SIGNATURE.replace("sha256=", "sha1=")),
        (DOC_SECRET, DOC_BODY, DOC_SIGNATURE[:-1]),
        (DOC_SECRET, DOC_BODY, DOC_SIGNATURE.upper()),
        (DOC_SECRET, DOC_BODY, ""),
        (DOC_SECRET, DOC_BODY, None),
        ("", DOC_BODY, DOC_SIGNATURE),
        (DOC_SECRET, DOC_BODY, "sha256=é" + "0" * 63),
    ],
)
def test_verify_refuses_anything_else(secret, body, header):
    assert not signature.verify(secret, body, header)


def test_sign_refuses_an_empty_secret():
    with pytest.raises(ValueError):
        signature.sign("", b"x")


def test_str_and_bytes_are_the_same_utf8_payload():
    assert signature.sign("s", "héllo") == signature.sign(b"s", "héllo".encode())
