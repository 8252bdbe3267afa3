import re

from hypothesis import given
from hypothesis import strategies as st

from autopilot.common.markdown import ZERO_WIDTH_SPACE, code_block, defuse_mentions, defuse_references


def test_mentions_and_teams_notify_nobody():
    text = defuse_mentions("ping @octocat and @acme/admins, mail a@b.io")
    assert "@octocat" not in text and "@acme/admins" not in text
    assert text.count("@" + ZERO_WIDTH_SPACE) == 3
    assert text.replace(ZERO_WIDTH_SPACE, "") == "ping @octocat and @acme/admins, mail a@b.io"


def test_references_link_nothing_but_entities_and_words_stay():
    text = defuse_references("fixes #12, see issue#3 and &#39;quoted&#39;")
    assert "#" + ZERO_WIDTH_SPACE + "12" in text
    assert "issue#3" in text and "&#39;" in text


@given(st.text(alphabet=st.sampled_from("@#&ab1-_/ \n" + ZERO_WIDTH_SPACE)))
def test_defused_text_links_nobody_and_loses_nothing(text):
    safe = defuse_references(defuse_mentions(text))
    assert not re.search(r"@[A-Za-z0-9_-]", safe), "a mention survived"
    assert not re.search(r"(?<![\w&])#\d", safe), "a reference survived"
    assert safe.replace(ZERO_WIDTH_SPACE, "") == text.replace(ZERO_WIDTH_SPACE, "")


@given(st.text(alphabet=st.sampled_from("`ab\n ")))
def test_no_text_can_close_its_code_block(text):
    block = code_block(text, "diff")
    fence = block.split("diff\n", 1)[0]
    assert set(fence) == {"`"} and len(fence) >= 3
    inner = block[len(fence) + len("diff\n") : -len(fence) - 1]
    assert inner == text
    assert fence not in text, "a run of backticks inside as long as the fence would close it"
