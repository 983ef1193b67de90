"""List endpoints issue a fixed number of queries, however many rows they return."""

from __future__ import annotations

from tests.factories import patient_body


def _list_queries(nurse, count_queries) -> tuple[int, int]:
    with count_queries() as counter:
        r = nurse.get("/api/v1/patients?limit=100")
    assert r.status_code == 200
    return counter.count, len(r.json["items"])


def test_patient_list_query_count_does_not_grow_with_rows(nurse, count_queries):
    for _ in range(5):
        assert nurse.post("/api/v1/patients", json=patient_body()).status_code == 201
    few, n_few = _list_queries(nurse, count_queries)
    for _ in range(45):
        assert nurse.post("/api/v1/patients", json=patient_body()).status_code == 201
    many, n_many = _list_queries(nurse, count_queries)
    assert (n_few, n_many) == (5, 50)
    assert few == many, f"{few} queries for 5 patients, {many} for 50"


def test_clinic_user_list_query_count(clinic_admin, factory, clinic, count_queries):
    def count(url: str) -> int:
        with count_queries() as counter:
            assert clinic_admin.get(url).status_code == 200
        return counter.count

    url = f"/api/v1/clinics/{clinic}/users"
    few = count(url)
    for _ in range(10):
        factory.user("nurse", clinic)
    assert count(url) == few
