"""What happens to a wound that the records built on it must hear of.

Assessments hang off a wound and read its facts (its onset bounds their
dates; its skin-fold flag is part of their grades), but wounds sit below
assessments and do not import them. So a wound announces the change here and
assessments subscribe (``app.assessments.services.follow_wound_changes``,
called by create_app). A receiver that raises a Problem refuses the change:
the amendment is not applied and the request answers that Problem.
"""

from __future__ import annotations

from blinker import Namespace

_events = Namespace()

#: Before an amendment moves a wound's onset later: sent with the wound as it
#: stands, ``session`` and the new ``onset`` date.
onset_moving_later = _events.signal("wound-onset-moving-later")

#: After an amendment flipped a wound's skin-fold flag: sent with the amended
#: wound and ``session``.
skin_fold_changed = _events.signal("wound-skin-fold-changed")

#: After an amendment linked a wound to another radiotherapy course (or none):
#: sent with the amended wound and ``session``.
course_changed = _events.signal("wound-course-changed")
