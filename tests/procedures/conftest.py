import pytest

from tests.assessments.helpers import make_wound


@pytest.fixture
def wound(app, clinic):
    return make_wound(app, clinic)
