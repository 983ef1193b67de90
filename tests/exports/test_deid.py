"""De-identification rules: pure functions, no database."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from app.exports import deid
from app.exports.rows import generic_agent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("left popliteal fossa", "lower_limb"),
        ("Popliteal Fossa (skin fold)", "lower_limb"),
        ("back of the knee", "lower_limb"),
        ("R thigh, medial", "lower_limb"),
        ("inframammary fold", "breast"),
        ("Left breast, upper outer quadrant", "breast"),
        ("right axillary fold", "axilla"),
        ("armpit", "axilla"),
        ("chest wall", "chest_wall"),
        ("post-mastectomy scar", "breast"),
        ("scalp", "head_neck"),
        ("anterior neck", "head_neck"),
        ("supraclavicular fossa", "head_neck"),
        ("perineum", "pelvis_perineum"),
        ("sacrum", "pelvis_perineum"),
        ("Groin crease", "pelvis_perineum"),
        ("abdomen, periumbilical", "abdomen"),
        ("upper arm", "upper_limb"),
        ("forearm", "upper_limb"),
        ("lower back", "back"),
        ("scapula", "back"),
        ("", "other"),
        (None, "other"),
        ("early erythema", "other"),
        ("near Mrs Smith's headache spot", "other"),
    ],
)
def test_site_class(text, expected):
    assert deid.site_class(text) == expected
    assert expected in deid.SITE_CLASSES


def test_site_class_never_returns_the_text():
    assert deid.site_class("Hildegard Zwieselbrecht MRN 123") == "other"


def test_pseudonyms_are_stable_per_recipient_and_unlinkable_between_recipients():
    record = uuid.uuid4()
    alice, bob = uuid.uuid4(), uuid.uuid4()
    ka = deid.pseudonym_key("secret", alice)
    kb = deid.pseudonym_key("secret", bob)
    assert deid.pseudonym(ka, "patient", record) == deid.pseudonym(ka, "patient", record)
    assert deid.pseudonym(ka, "patient", record) != deid.pseudonym(kb, "patient", record)
    # the server secret matters too, and the kind separates namespaces
    assert deid.pseudonym(ka, "patient", record) != deid.pseudonym(
        deid.pseudonym_key("other-secret", alice), "patient", record
    )
    assert deid.pseudonym(ka, "patient", record) != deid.pseudonym(ka, "wound", record)
    pid = deid.pseudonym(ka, "patient", record)
    assert len(pid) == 32 and int(pid, 16) >= 0
    assert str(record) not in pid


def test_batched_pseudonyms_are_the_keyed_hash():
    key = deid.pseudonym_key("secret", uuid.uuid4())
    records = [uuid.uuid4() for _ in range(5)]
    many = deid.Pseudonymizer(key).many_for_kind("assessment")
    one = deid.Pseudonymizer(key).for_kind("assessment")
    expected = [deid.pseudonym(key, "assessment", r) for r in records]
    assert many([r.hex for r in records]) == expected == [one(r.hex) for r in records]
    assert many([]) == []


@pytest.mark.parametrize(
    ("birth", "on", "label"),
    [
        (date(1941, 7, 23), date(2025, 11, 19), "84"),
        (date(1936, 1, 1), date(2025, 12, 31), "89"),  # 89 stays
        (date(1935, 12, 31), date(2025, 12, 31), "90+"),  # turns 90 that day
        (date(1935, 12, 31), date(2025, 12, 30), "89"),  # the day before
        (date(1930, 2, 11), date(2025, 6, 2), "90+"),
        (date(1920, 5, 5), date(2025, 6, 2), "90+"),  # 105: no exact age leaks
    ],
)
def test_age_label_tops_out_at_90_plus(birth, on, label):
    assert deid.age_label(birth, on) == label


def test_controlled_values_never_pass_free_text():
    assert deid.one_of("gel", ("gel", "injection")) == "gel"
    assert deid.one_of("gel from Dr Who's lab", ("gel", "injection")) == "other"
    assert deid.one_of(None, ("gel",)) is None


def test_generic_agent_names_only():
    assert generic_agent("Anlotinib hydrochloride") == "anlotinib"
    assert generic_agent("bevacizumab-awwb") == "bevacizumab"
    assert generic_agent("capecitabine per Dr Smith") == "other_agent"
