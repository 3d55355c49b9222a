"""The editor's "Suggested phrasings" page in a real headless Chromium: tick two suggestions, approve them, read the
result. The desk is served on a free port with the demo knowledge base; the suggestions are recorded by its learner."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from desk.app import create_app
from knowledge_base.candidates import CandidateState, Source
from settings import DEMO_KB_FILE, Settings
from tests.browser.conftest import ServedApp
from tests.browser.test_inbox_browser import submit, text_of
from tests.desk.inbox_support import PASSWORD
from tests.support import free_port

BULK = "demo-0002"
SUGGESTED = ["my couch has to go, who takes it", "fridge removal from the curb", "dumpster for a renovation"]


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Iterator[tuple[ServedApp, list[int]]]:
    """The served desk, an editor, and three pending suggestions for the bulk pickup entry (their ids)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("browser-suggestions"), seed_kb_file=DEMO_KB_FILE,
                        desk_port=free_port(), rasa_port=free_port())
    with ServedApp(create_app(settings), settings.host, settings.desk_port) as served:
        served.app.state.staff.add(username="kb.editor", display_name="Eda Editor", password=PASSWORD,
                                   role="editor", department=None)
        ids = []
        for n, text in enumerate(SUGGESTED):
            candidate = served.app.state.learner.record(text, BULK, conversation_id=f"web-suggested-{n}",
                                                        source=Source.CLARIFICATION)
            assert candidate is not None and candidate.state is CandidateState.PENDING
            ids.append(candidate.id)
        yield served, ids


@pytest.fixture
def browser(driver, desk) -> WebDriver:
    """The module's Chromium, logged in as the editor."""
    served, _ = desk
    driver.get(f"{served.url}/inbox/login")
    driver.delete_all_cookies()
    driver.get(f"{served.url}/inbox/login")
    driver.find_element(By.ID, "username").send_keys("kb.editor")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    submit(driver, driver.find_element(By.ID, "login-button"))
    assert driver.current_url == f"{served.url}/editor"
    return driver


def listed(browser: WebDriver) -> dict[str, str]:
    """The suggestions on the page: id → phrasing."""
    return {row.get_attribute("data-id"): row.find_element(By.CSS_SELECTOR, "td.text").text
            for row in browser.find_elements(By.CSS_SELECTOR, "#suggestions tr.suggestion")}


def test_ticking_two_suggestions_and_approving_them_adds_both_and_says_so(browser, desk):
    served, (sofa, fridge, dumpster) = desk
    submit(browser, browser.find_element(By.ID, "nav-suggestions"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Suggested phrasings"
    assert listed(browser) == {str(i): text for i, text in zip((sofa, fridge, dumpster), SUGGESTED, strict=True)}

    for candidate_id in (sofa, fridge):
        box = browser.find_element(By.CSS_SELECTOR, f'input[name="ids"][value="{candidate_id}"]')
        box.click()
        assert box.is_selected()
    submit(browser, browser.find_element(By.ID, "approve-selected"))

    assert browser.current_url == f"{served.url}/editor/suggestions"
    assert text_of(browser, "flash") == "Approved 2 suggested phrasings."
    assert listed(browser) == {str(dumpster): SUGGESTED[2]}
    phrasings = served.app.state.knowledge_base.store.get(BULK).alt_questions
    assert set(phrasings[-2:]) == set(SUGGESTED[:2]) and SUGGESTED[2] not in phrasings

    browser.get(f"{served.url}/editor/suggestions?state=approved")
    assert listed(browser) == {str(sofa): SUGGESTED[0], str(fridge): SUGGESTED[1]}
    states = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#suggestions tr.suggestion span.state")]
    assert states == ["approved", "approved"]
    assert not browser.find_elements(By.CSS_SELECTOR, 'input[name="ids"]')
