"""Set-up shared by every test directory."""

import pytest

# the helpers the mutation-log tests share assert too: give their failures pytest's detail
pytest.register_assert_rewrite("tests.boxes")
