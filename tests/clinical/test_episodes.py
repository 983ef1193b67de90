"""Healing episodes and recurrence: a closure ends an episode, an open
measurement after it starts the next; PAR, the checkpoint, the fits and the
projection read the current one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.clinical.episodes import Episode, closure_dates, split_episodes
from app.clinical.status import IRRADIATED_REVIEW
from app.clinical.trajectory import Measurement, compute_trajectory

T0 = datetime(2022, 6, 6, 10, tzinfo=UTC)  # a Monday morning


def at(day: float) -> datetime:
    return T0 + timedelta(days=day)


def on(day: int) -> date:
    return at(day).date()


def m(day: float, area: float, *, closed: bool = False, seq: int = 0) -> Measurement:
    return Measurement(at(day), area, closed=closed, seq=seq)


# --- splitting ----------------------------------------------------------------------


def test_closure_dates_are_sorted_and_the_current_one_wins() -> None:
    assert closure_dates(on(30), [on(50), on(10), on(30)]) == [
        (on(10), False),
        (on(30), True),
        (on(50), False),
    ]
    assert closure_dates(None, []) == []


def test_an_open_series_is_one_episode() -> None:
    assert split_episodes([m(0, 4), m(7, 3)], []) == [Episode(1, 0, 2)]
    assert split_episodes([], []) == [Episode(1, 0, 0)]


def test_a_closed_assessment_ends_an_episode_and_an_open_one_starts_the_next() -> None:
    points = [m(0, 4), m(7, 0.2, closed=True), m(14, 0), m(21, 1.5), m(28, 1)]
    assert split_episodes(points, []) == [
        Episode(1, 0, 3, on(7), "assessment", 1),
        Episode(2, 3, 5),
    ]


def test_an_area_of_zero_closes_only_after_an_open_area() -> None:
    # intact skin (0 cm2) first, then open: one episode
    assert split_episodes([m(0, 0), m(7, 1), m(14, 0)], []) == [
        Episode(1, 0, 3, on(14), "assessment", 2)
    ]
    # but an assessment marked closed is a closure even first
    assert split_episodes([m(0, 0, closed=True), m(7, 1)], []) == [
        Episode(1, 0, 1, on(0), "assessment", 0),
        Episode(2, 1, 2),
    ]


def test_a_healed_date_closes_the_episode_open_on_that_day() -> None:
    points = [m(0, 4), m(14, 2), m(21, 1.5)]
    # an open measurement on the healed day itself still belongs to the episode
    assert split_episodes(points, [(on(21), True)]) == [Episode(1, 0, 3, on(21), "healed_on")]
    # the day before: the day-21 measurement starts a new episode
    assert split_episodes(points, [(on(20), True)]) == [
        Episode(1, 0, 2, on(20), "healed_on"),
        Episode(2, 2, 3),
    ]


def test_a_recorded_healing_supersedes_an_earlier_closed_assessment() -> None:
    points = [m(0, 4), m(14, 0), m(21, 0)]
    assert split_episodes(points, [(on(18), True)]) == [Episode(1, 0, 3, on(18), "healed_on", 1)]


def test_an_earlier_healing_ends_its_episode_for_good() -> None:
    # recorded healed on day 10, reopened; nothing measured since
    assert split_episodes([m(0, 4)], [(on(10), False)]) == [
        Episode(1, 0, 1, on(10), "earlier_healing", reopened=True),
        Episode(2, 1, 1),
    ]
    # a closed assessment after it starts (and closes) an episode of its own
    assert split_episodes([m(0, 4), m(14, 0, closed=True)], [(on(10), False)]) == [
        Episode(1, 0, 1, on(10), "earlier_healing", reopened=True),
        Episode(2, 1, 2, on(14), "assessment", 1),
    ]
    # two healings with nothing between: the wound was reopened, then healed again
    assert split_episodes([m(0, 4)], [(on(10), False), (on(20), True)]) == [
        Episode(1, 0, 1, on(10), "earlier_healing", reopened=True),
        Episode(2, 1, 1, on(20), "healed_on"),
    ]
    # an earlier healing of an episode an assessment had closed
    assert split_episodes([m(0, 4), m(7, 0), m(20, 2)], [(on(10), False)]) == [
        Episode(1, 0, 2, on(10), "earlier_healing", 1, reopened=True),
        Episode(2, 2, 3),
    ]


def test_a_healed_date_before_every_assessment() -> None:
    assert split_episodes([m(0, 2)], [(on(-5), True)]) == [
        Episode(1, 0, 0, on(-5), "healed_on"),
        Episode(2, 0, 1),
    ]


# --- status -------------------------------------------------------------------------


def test_reopened_after_a_closed_assessment_is_recurred() -> None:
    result = compute_trajectory([m(0, 10), m(14, 6), m(28, 0), m(35, 1.5)])
    assert result.status == "recurred"
    assert result.reasons == [
        "episode 2: the wound closed on 2022-07-04 (an assessment measured 0 cm2);"
        " reopened on 2022-07-11 (open area 1.50 cm2 at the assessment)"
    ]
    assert result.episode == 2
    assert result.episodes == [
        {
            "number": 1,
            "started_at": "2022-06-06T10:00:00+00:00",
            "closed_on": "2022-07-04",
            "closed_by": "assessment",
            "measurements": 3,
        },
        {
            "number": 2,
            "started_at": "2022-07-11T10:00:00+00:00",
            "closed_on": None,
            "closed_by": None,
            "measurements": 1,
        },
    ]
    # baseline and latest are the current episode's
    assert (
        result.baseline
        == result.latest
        == {
            "at": "2022-07-11T10:00:00+00:00",
            "area_cm2": 1.5,
        }
    )
    assert result.par_pct is None
    marked = compute_trajectory([m(0, 10), m(28, 0.1, closed=True), m(35, 1.5)])
    assert "(an assessment found it closed)" in marked.rule


def test_an_open_measurement_after_the_healed_date_is_not_hidden() -> None:
    """Issue 18, 3: "healed" while the latest area is 1.5 cm2."""
    points = [m(0, 10), m(14, 5), m(28, 2), m(40, 1.5)]
    result = compute_trajectory(points, healed_on=on(30))
    assert result.status == "recurred"
    assert result.rule == (
        "episode 2: the wound closed on 2022-07-06 (recorded healed); reopened on"
        " 2022-07-16 (open area 1.50 cm2 at the assessment)"
    )
    assert result.latest == {"at": "2022-07-16T10:00:00+00:00", "area_cm2": 1.5}
    # without the later measurement the wound is healed
    healed = compute_trajectory(points[:3], healed_on=on(30))
    assert (healed.status, healed.days_to_closure) == ("healed", 30)


def test_a_reopened_wound_is_not_stalled_by_its_closure() -> None:
    """Issue 18, 3: a reopened wound was "stalled ... the area fell -73%"."""
    points = [m(0, 10), m(28, 2.5), m(35, 0), m(50, 0.5), m(63, 0.5)]
    result = compute_trajectory(points)
    assert result.status == "recurred"
    assert "fell -" not in result.rule
    # the current episode: 0.5 -> 0.5 over 13 days
    assert result.par_pct == 0.0
    assert result.reasons[1].startswith("followed for 13 days, less than 4 weeks; the area did")


def test_an_irradiated_field_prompts_a_review() -> None:
    points = [m(0, 10), m(28, 0), m(35, 1.5), m(42, 1.4)]
    result = compute_trajectory(points, irradiated=True)
    assert result.status == "recurred"
    assert result.reasons[1] == IRRADIATED_REVIEW
    assert "biopsy to exclude tumour recurrence" in result.rule
    assert IRRADIATED_REVIEW not in compute_trajectory(points).reasons


def test_a_wound_reopened_without_a_measurement_is_recurred() -> None:
    result = compute_trajectory([m(0, 10), m(14, 4)], past_closures=[on(20)])
    assert result.status == "recurred"
    assert result.rule == (
        "episode 2: the wound closed on 2022-06-26 (recorded healed); the wound record"
        " was reopened (no measurement since)"
    )
    assert result.baseline is None and result.latest is None
    assert result.episodes[1] == {
        "number": 2,
        "started_at": None,
        "closed_on": None,
        "closed_by": None,
        "measurements": 0,
    }
    assert result.week4_checkpoint.to_dict()["state"] == "not_applicable"


def test_the_current_episode_is_judged_on_its_own() -> None:
    # episode 1: 10 cm2 healed on day 21; episode 2 from day 40: 4 -> 3 -> 1.2
    points = [m(0, 10), m(21, 0), m(40, 4), m(54, 3), m(68, 1.2)]
    result = compute_trajectory(points, irradiated=True)
    assert result.episode == 2
    # PAR from the episode's baseline: (4 - 1.2) / 4 = 70%; week 4 is day 68
    assert result.par_pct == 70.0
    assert result.week4_checkpoint.to_dict()["par_pct"] == 70.0
    assert result.status == "on_track"
    assert result.reasons[0].startswith("over the last 28 days the area fell 70% (4.00 cm2")
    assert result.reasons[2].startswith("episode 2: the wound closed on 2022-06-27")
    assert result.reasons[3] == IRRADIATED_REVIEW
    # the fit is the episode's: days 0, 14, 28 and areas 4, 3, 1.2 (mean 2.7333):
    # sxy = -14 x 1.2667 + 14 x -1.5333 = -39.2, sxx = 392: -0.1 cm2/day
    assert result.weekly_area_change_cm2 == -0.7
    assert result.episode_starts == ((1, 0), (2, 0))


def test_a_recurrence_that_grows_is_deteriorating() -> None:
    points = [m(0, 10), m(21, 0), m(40, 1), m(47, 1.5)]
    result = compute_trajectory(points)
    assert result.status == "deteriorating"
    assert result.reasons[0] == "area 1.50 cm2 is 50% above baseline 1.00 cm2 (>= 10% margin)"
    assert result.reasons[1].startswith("episode 2: ")


def test_a_recurrence_that_heals_again() -> None:
    points = [m(0, 10), m(21, 0), m(40, 1), m(47, 0)]
    result = compute_trajectory(points, irradiated=True)
    assert result.status == "healed"
    assert result.days_to_closure == 7  # from the episode's first measurement
    assert result.reasons == [
        "closed at the assessment on 2022-07-23 (area 0 cm2)",
        "episode 2: the wound closed on 2022-06-27 (an assessment measured 0 cm2);"
        " reopened on 2022-07-16 (open area 1.00 cm2 at the assessment)",
    ]


def test_equal_instants_across_a_closure_follow_creation_order() -> None:
    """Issue 18, 5: the same two assessments in either input order."""
    closed_first = [m(0, 4), m(7, 0, seq=1), m(7, 1.5, seq=2)]
    for points in (closed_first, closed_first[::-1]):
        result = compute_trajectory(points)
        assert result.status == "recurred"
        assert result.episode_starts == ((1, 0), (2, 2))
    open_first = [m(0, 4), m(7, 1.5, seq=1), m(7, 0, seq=2)]
    for points in (open_first, open_first[::-1]):
        result = compute_trajectory(points)
        assert result.status == "healed"
        assert result.rule == "closed at the assessment on 2022-06-13 (area 0 cm2)"
