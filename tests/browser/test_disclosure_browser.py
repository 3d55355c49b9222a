"""The public disclosure page in a real headless Chromium: list, filter by department, search, page, open."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from desk.app import create_app
from settings import Settings
from tests.browser.conftest import ServedApp
from tests.disclosure.disclosure_support import at, report, say
from tests.support import free_port

PAGE_LOAD_TIMEOUT_S = 20
ROUTINE = 23  # with the three cases: 26 conversations, two pages


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("disclosure-browser"), desk_port=free_port(),
                        rasa_port=free_port())
    with ServedApp(create_app(settings), settings.host, settings.desk_port) as served:
        for n in range(ROUTINE):
            say(settings, at(5, minutes=n), f"tg-{n}", "citizen", f"When is the pool open? (question {n})")
            say(settings, at(5, minutes=n, seconds=-5), f"tg-{n}", "bot", "From 9 am to 5 pm, every day.")
        report(settings, at(3), "tg-pothole", "Pothole on Main, I'm Gwen Morales, call 303-555-0142", "pothole")
        report(settings, at(2), "tg-bin", "My recycling bin was skipped", "missed-pickup",
               answer="Sorry, the truck comes back tomorrow.")
        report(settings, at(1, hours=6), "tg-light", "The streetlight by the school is out", "streetlight",
               answer="Fixed today.", close=True)
        yield served


def submit(browser: WebDriver, button: WebElement) -> None:
    page = browser.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(browser, PAGE_LOAD_TIMEOUT_S).until(lambda _: _is_gone(page))


def _is_gone(element: WebElement) -> bool:
    try:
        element.is_enabled()
        return False
    except WebDriverException:  # stale, or "does not belong to the document": the next page replaced it
        return True


def results(browser: WebDriver) -> list[WebElement]:
    return browser.find_elements(By.CSS_SELECTOR, "#results li.conversation")


def test_the_list_shows_the_newest_twenty_and_pages_on(driver, desk):
    driver.get(f"{desk.url}/disclosure")
    assert "26 conversations" in driver.find_element(By.ID, "count").text
    first = results(driver)
    assert len(first) == 20
    first_ids = {r.get_attribute("data-id") for r in first}
    last_on_first = first[-1].text
    assert "The streetlight by the school is out" in first[0].text and "Closed" in first[0].text
    assert "Case answered" in first[1].text and "Sorry, the truck comes back tomorrow." in first[1].text
    assert "Case open" in first[2].text and "reply expected by" in first[2].text
    assert "Gwen" not in first[2].text and "303-555-0142" not in first[2].text
    submit(driver, driver.find_element(By.ID, "next"))
    second = results(driver)
    assert driver.find_element(By.ID, "page-number").text == "2"
    assert len(second) == 6
    assert "(question 16)" in last_on_first and "(question 17)" in second[0].text
    assert "(question 22)" in second[-1].text
    assert not first_ids & {r.get_attribute("data-id") for r in second}
    assert not driver.find_elements(By.ID, "next")


def test_filter_by_department_then_search(driver, desk):
    driver.get(f"{desk.url}/disclosure")
    Select(driver.find_element(By.ID, "department")).select_by_visible_text("Public Works")
    submit(driver, driver.find_element(By.ID, "apply"))
    texts = [r.text for r in results(driver)]
    assert len(texts) == 2 and "streetlight" in texts[0] and "Pothole on Main" in texts[1]
    assert "department=public-works" in driver.find_element(By.ID, "export-csv").get_attribute("href")
    search = driver.find_element(By.ID, "q")
    search.send_keys("pothole")
    submit(driver, driver.find_element(By.ID, "apply"))
    texts = [r.text for r in results(driver)]
    assert len(texts) == 1 and "Pothole on Main" in texts[0]
    assert Select(driver.find_element(By.ID, "department")).first_selected_option.text == "Public Works"
    search = driver.find_element(By.ID, "q")
    search.clear()
    search.send_keys("Gwen")  # a redacted name finds nothing
    submit(driver, driver.find_element(By.ID, "apply"))
    assert driver.find_element(By.ID, "no-results").text == "No published conversation matches."


def test_open_a_conversation_with_its_pending_case(driver, desk):
    driver.get(f"{desk.url}/disclosure?status=case_open")
    (item,) = results(driver)
    public_id = item.get_attribute("data-id")
    submit(driver, item.find_element(By.CSS_SELECTOR, "a.open"))
    assert driver.current_url == f"{desk.url}/disclosure/{public_id}"
    assert driver.find_element(By.ID, "conversation-status").text == "Case open"
    case = driver.find_element(By.CSS_SELECTOR, "section.case").text
    assert "Public Works" in case and "reply expected by" in case
    messages = [m.text for m in driver.find_elements(By.CSS_SELECTOR, "#messages li")]
    assert len(messages) == 2 and messages[0].startswith("Citizen") and "Pothole on Main" in messages[0]
    assert "Gwen" not in driver.page_source and "303-555-0142" not in driver.page_source
    assert messages[1].startswith("Notice")
    submit(driver, driver.find_element(By.ID, "back"))
    assert len(results(driver)) == 20


def test_what_the_public_reads_has_no_stray_separator_and_the_delay_in_words(driver, desk):
    """The items' paragraphs keep their white space: a meta line broken in the template showed lines opening "·"."""
    driver.get(f"{desk.url}/disclosure")
    assert "Messages appear 24 hours after they were written" in driver.find_element(By.TAG_NAME, "main").text
    lines = [line.strip() for item in results(driver)
             for line in item.find_element(By.CSS_SELECTOR, "p.meta").text.split("\n")]
    assert any("Public Works · Pothole or damaged road" in line for line in lines)
    for line in lines:
        assert line and not line.startswith("·") and not line.endswith("·"), lines
