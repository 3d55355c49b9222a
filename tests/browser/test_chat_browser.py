"""The web chat page in a real headless Chromium, against the desk served on a free port and a local stand-in of
Rasa's REST channel: an outage answered later through /updates, and a send that fails retried with the same id."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from connectors import replies
from desk.app import create_app
from tests.browser.conftest import ServedApp

WAIT_S = 20


@pytest.fixture(scope="module")
def desk(desk_without_rasa):
    with ServedApp(create_app(desk_without_rasa), desk_without_rasa.host, desk_without_rasa.desk_port) as served:
        yield served


@pytest.fixture
def page(driver, desk, rasa):
    rasa.down = False
    driver.get(desk.url + "/")
    driver.execute_script("localStorage.clear()")
    driver.get(desk.url + "/")  # a new citizen
    yield driver
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                                "downloadThroughput": -1, "uploadThroughput": -1})


def say(page, text: str) -> None:
    box = page.find_element(By.ID, "message")
    box.send_keys(text)
    page.find_element(By.ID, "send").click()


def shown(page, author: str) -> list[str]:
    return [item.text for item in page.find_elements(By.CSS_SELECTOR, f"#log li.message.{author}")]


def test_a_message_sent_while_the_assistant_is_down_gets_a_note_then_its_answer_once(page, rasa):
    rasa.down = True
    say(page, "is the pool open on sundays?")
    WebDriverWait(page, WAIT_S).until(lambda p: shown(p, "system"))
    assert shown(page, "system") == [replies.RECEIVED]
    rasa.down = False
    WebDriverWait(page, WAIT_S).until(lambda p: shown(p, "bot"))  # the page's poll of /api/chat/updates
    time.sleep(4)  # another poll or two: nothing comes twice
    assert shown(page, "bot") == ["You said: is the pool open on sundays?"]


def test_a_send_that_cannot_reach_the_desk_is_retried_with_the_same_id_and_answered_once(page, rasa):
    page.execute_cdp_cmd("Network.enable", {})
    page.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                              "downloadThroughput": -1, "uploadThroughput": -1})
    say(page, "where do I pay a parking fine?")
    WebDriverWait(page, WAIT_S).until(lambda p: p.find_element(By.ID, "status").text == "Reconnecting…")
    page.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                              "downloadThroughput": -1, "uploadThroughput": -1})
    WebDriverWait(page, WAIT_S).until(lambda p: shown(p, "bot"))
    time.sleep(4)
    assert shown(page, "bot") == ["You said: where do I pay a parking fine?"]
    assert shown(page, "system") == []
    asked = [m for m in rasa.received if m["message"] == "where do I pay a parking fine?"]
    assert len(asked) == 1
