"""Finding any patient and any wound: the header's patient search on every
page, the patient list with its pages, the list of every wound in every state,
and filter values that are not choices shown as errors (422), not ignored."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from app.clinical.trajectory import STATUSES
from tests.summaries import helpers as h
from tests.web.conftest import page_problems, sign_in

SEARCH_FORM = re.compile(r'<form role="search" method="get" action="/web/patients"')


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/web/patients/[0-9a-f-]{36}">([^<]+)</a>', html)


def test_every_page_has_the_patient_search_and_it_finds_by_name_or_mrn(
    app, clinic, other_clinic, nurse, small_clinic
):
    h.patient(app, clinic, given_name="Olga", family_name="Brandt", mrn="K-7781")
    h.patient(app, clinic, given_name="Ansel", family_name="Brand_t", mrn="K-1002")
    h.patient(app, other_clinic, given_name="Olga", family_name="Elsewhere", mrn="K-7782")
    client = sign_in(app, nurse.email)
    for url in (
        "/web/",
        "/web/patients",
        "/web/wounds",
        f"/web/patients/{small_clinic.patient_id}",
        f"/web/wounds/{small_clinic.stalled}",
        f"/web/wounds/{small_clinic.stalled}/report",
        "/web/no-such-page",
    ):
        assert SEARCH_FORM.search(client.get(url).text), url

    assert _names(client.get("/web/patients?q=olga").text) == ["Brandt, Olga"]
    assert _names(client.get("/web/patients?q=k-778").text) == ["Brandt, Olga"]  # MRN
    assert _names(client.get("/web/patients?q=BRANDT+olga").text) == ["Brandt, Olga"]
    # LIKE's wildcards are plain characters: "_" matches only an underscore.
    assert _names(client.get("/web/patients?q=brand_").text) == ["Brand_t, Ansel"]
    none = client.get("/web/patients?q=zzz")
    assert none.status_code == 200 and "No patient matches “zzz” by name or MRN" in none.text
    # The other clinic's Olga is never found; the search box keeps what was searched.
    assert "Elsewhere" not in client.get("/web/patients?q=K-77").text
    assert 'value="olga"' in client.get("/web/patients?q=olga").text
    assert client.get("/web/patients?q=" + "x" * 201).status_code == 422


def test_the_patient_list_pages_through_every_patient(app, clinic, nurse):
    for i in range(30):
        h.patient(app, clinic, given_name=f"P{i:02d}", family_name=f"Family{i:02d}")
    client = sign_in(app, nurse.email)
    first = client.get("/web/patients")
    assert first.status_code == 200
    names = _names(first.text)
    assert len(names) == 25 and names == sorted(names)
    link = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', first.text)
    assert link, "a next page"
    second = client.get(link.group(1).replace("&amp;", "&"))
    rest = _names(second.text)
    assert len(rest) == 5 and not set(rest) & set(names)
    assert 'rel="next"' not in second.text and "First page" in second.text
    assert client.get("/web/patients?cursor=not-a-cursor").status_code == 422


def test_the_wound_list_shows_every_state_and_filters_healed(app, clinic, nurse, small_clinic):
    today = datetime.now(UTC).date()
    pid = h.patient(app, clinic, given_name="Hana", family_name="Healed")
    healed = h.wound(
        app,
        clinic,
        pid,
        body_site="sacrum",
        onset_date=today - timedelta(days=40),
        status="healed",
        healed_on=today - timedelta(days=5),
    )
    for day, area, closed in ((40, 3.0, False), (20, 1.0, False), (5, 0.0, True)):
        h.assess(nurse, healed, h.at(today - timedelta(days=day)), area_cm2=area, closed=closed)
    never = h.wound(app, clinic, pid, body_site="scalp", onset_date=today - timedelta(days=900))

    client = sign_in(app, nurse.email)
    page = client.get("/web/wounds")
    assert page.status_code == 200
    for site in ("sacrum", "scalp", "left axilla", "popliteal fossa", "inframammary fold"):
        assert site in page.text, site
    for status in STATUSES:  # every status of the clinical engine is a filter choice
        assert f'name="status" value="{status}"' in page.text, status
    assert 'name="record" value="healed"' in page.text

    only_healed = client.get("/web/wounds?record=healed").text
    assert "sacrum" in only_healed and "left axilla" not in only_healed
    assert f"/web/wounds/{healed}" in only_healed
    by_status = client.get("/web/wounds?status=healed").text
    assert "sacrum" in by_status and "popliteal" not in by_status
    # The overview is open wounds; its status filter offers healed too, and says where they are.
    assert "sacrum" not in client.get("/web/?status=healed").text
    assert "/web/wounds?" in client.get("/web/?status=healed").text

    scalp = client.get("/web/wounds?site=scalp").text
    assert "never assessed" in scalp and "days ago" not in scalp
    assert f"/web/wounds/{never}" in scalp


def test_filter_values_that_are_not_choices_are_errors_on_the_page(app, nurse, small_clinic):
    client = sign_in(app, nurse.email)
    for url, bad in (
        ("/web/wounds?record=closed", "closed"),
        ("/web/wounds?status=healed&status=nonsense", "nonsense"),
        ("/web/wounds?etiology=burn", "etiology"),
        ("/web/wounds?sort=colour", "sort"),
        ("/web/?status=recovered", "recovered"),
        ("/web/?etiology=burn", "etiology"),
    ):
        r = client.get(url)
        assert r.status_code == 422, url
        assert "These filters are not valid" in r.text and bad in r.text, url
        assert "Correct the filters above to see the list" in r.text, url
        assert page_problems(r.text) == [], url


def test_the_list_pages_work_on_a_phone_as_cards(app, nurse, small_clinic):
    """Every cell of the lists carries its column's name, which the phone
    layout prints beside the value (web.css: table.cards)."""
    client = sign_in(app, nurse.email)
    for url in ("/web/", "/web/wounds", "/web/patients"):
        html = client.get(url).text
        cells = re.findall(r"<td( data-label=\"[^\"]+\")?", html.split("<tbody>")[1])
        assert cells and all(cells), url


def test_researchers_have_no_patient_or_wound_list(app, researcher):
    client = sign_in(app, researcher.email)
    assert client.get("/web/patients").status_code == 403
    assert client.get("/web/wounds").status_code == 403
    assert not SEARCH_FORM.search(client.get("/web/exports").text)


def test_date_is_never_a_day_count_for_a_wound_never_assessed(app, clinic, nurse):
    pid = h.patient(app, clinic)
    h.wound(app, clinic, pid, body_site="scalp", onset_date=date.today() - timedelta(days=1789))
    html = sign_in(app, nurse.email).get("/web/").text
    assert "never assessed" in html and "1789 days ago" not in html
