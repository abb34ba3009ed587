"""The web UI in a real browser: headless Chromium (Debian's `chromium`,
driven through `chromium-driver` by selenium), run by
tests/tests/webui_browser.rs against real processes.

  webui_browser.py cluster MASTER RMESOS_EXECUTE SHOTS_DIR
      rmesos-local at MASTER (2 agents): the overview loads with no console
      errors and shows 2 agents; a task launched with rmesos-execute appears
      and turns TASK_FINISHED without a reload; its sandbox page shows its
      stdout and stderr, and its download link gives the stdout; no page
      logs a console error. A screenshot of each page goes to SHOTS_DIR.
  webui_browser.py standby STANDBY LEADER SHOTS_DIR
      `/` on the standby master leads the browser to the leader's UI.

Prints OK at the end; any failure raises (exit 1) with what the page showed.
Waits are WebDriverWait's bounded polls on the page's state, never sleeps.
"""

import os
import subprocess
import sys
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 30  # seconds, the longest any one state is waited for


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = os.environ.get("RMESOS_CHROMIUM", "/usr/bin/chromium")
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1360,900",
              "--disable-gpu", "--no-first-run", "--disable-extensions", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--disable-default-apps"]:
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=os.environ.get("RMESOS_CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(options=o, service=service)


def wait(d, what, pred):
    try:
        return WebDriverWait(d, WAIT, poll_frequency=0.1).until(lambda d: pred(d))
    except Exception:
        body = d.find_element(By.TAG_NAME, "body").text
        raise AssertionError(f"timed out waiting for {what}; at {d.current_url} the page shows:\n{body}")


def errors(d):
    """The console's SEVERE entries (errors, failed loads) since the last call."""
    return [e for e in d.get_log("browser") if e["level"] == "SEVERE"]


def shot(d, shots, name):
    d.save_screenshot(os.path.join(shots, name + ".png"))


def text_of(d, css):
    els = d.find_elements(By.CSS_SELECTOR, css)
    return els[0].text if els else ""


def click(d, by, sel):
    """Clicks what `sel` finds, again if the page redrew it meanwhile."""
    def attempt(d):
        try:
            d.find_element(by, sel).click()
            return True
        except (StaleElementReferenceException, NoSuchElementException):
            return False
    wait(d, f"{sel} to click", attempt)


def go(d, hash_):
    """Moves within the page (a hash change: the page is not reloaded)."""
    d.execute_script("location.hash = arguments[0]", hash_)


def cluster(master, execute, shots):
    d = browser()
    try:
        d.get(f"http://{master}/")
        wait(d, "the overview with 2 agents", lambda d: text_of(d, "#agent-count") == "2")
        wait(d, "the resource bars", lambda d: len(d.find_elements(By.CSS_SELECTOR, "#overview .res")) == 3)
        bad = errors(d)
        assert not bad, f"console errors on the overview: {bad}"
        shot(d, shots, "overview")
        # A reload would drop this; it must survive everything below.
        d.execute_script("window.rmesosNoReload = 'same page'")

        go(d, "#/agents")
        wait(d, "2 agent rows", lambda d: len(d.find_elements(By.CSS_SELECTOR, "#agents tbody tr a")) == 2)
        shot(d, shots, "agents")
        click(d, By.CSS_SELECTOR, "#agents tbody tr a")
        wait(d, "an agent's page", lambda d: "Agent" in text_of(d, "#agent h1") and "Tasks" in text_of(d, "#agent"))
        shot(d, shots, "agent")

        go(d, "#/tasks")
        wait(d, "the tasks page", lambda d: d.find_elements(By.CSS_SELECTOR, "#tasks table"))
        run = subprocess.Popen([execute, "--master", master, "--name", "webui-hello",
                                "--command", "echo hello from the web UI; echo to stderr >&2"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        row = "//div[@id='tasks']//tbody/tr[td[1]/a[text()='webui-hello']]"
        wait(d, "the task's row", lambda d: d.find_elements(By.XPATH, row))
        wait(d, "the task TASK_FINISHED", lambda d: "TASK_FINISHED" in d.find_element(By.XPATH, row).text)
        out, _ = run.communicate(timeout=WAIT)
        assert run.returncode == 0, f"rmesos-execute failed ({run.returncode}):\n{out}"
        assert d.execute_script("return window.rmesosNoReload") == "same page", "the page was reloaded"
        shot(d, shots, "tasks")

        click(d, By.XPATH, row + "/td[1]/a")
        wait(d, "the task's page", lambda d: "TASK_FINISHED" in text_of(d, "#task-state"))
        shot(d, shots, "task")
        click(d, By.LINK_TEXT, "browse the sandbox")
        wait(d, "the task's stdout in the sandbox page", lambda d: "hello from the web UI" in text_of(d, "#log"))
        wait(d, "the sandbox's files", lambda d: "stderr" in text_of(d, "#files"))
        shot(d, shots, "sandbox")
        href = d.find_element(By.ID, "download").get_attribute("href")
        assert "/files/download?path=" in href, href
        with urllib.request.urlopen(href, timeout=WAIT) as r:
            assert b"hello from the web UI" in r.read(), f"{href} does not download the stdout"
        click(d, By.LINK_TEXT, "stderr")
        wait(d, "the task's stderr", lambda d: "to stderr" in text_of(d, "#log"))

        go(d, "#/frameworks")
        wait(d, "the frameworks page", lambda d: d.find_elements(By.CSS_SELECTOR, "#frameworks table"))
        d.execute_script("const s = document.querySelector('#frameworks select'); s.value = 'all'; s.dispatchEvent(new Event('change'))")
        fw = "//div[@id='frameworks']//tbody/tr[td[2][text()='webui-hello']]/td[1]/a"
        wait(d, "the framework's row", lambda d: d.find_elements(By.XPATH, fw))
        shot(d, shots, "frameworks")
        click(d, By.XPATH, fw)
        wait(d, "the framework's page with its task", lambda d: "webui-hello" in text_of(d, "#framework"))
        shot(d, shots, "framework")
        go(d, "#/")
        wait(d, "the overview counting the finished task",
             lambda d: d.find_elements(By.CSS_SELECTOR, "#overview [data-state=TASK_FINISHED]"))
        wait(d, "the task's events", lambda d: "webui-hello TASK_FINISHED" in text_of(d, "#overview .events"))
        shot(d, shots, "overview-with-a-task")
        assert d.execute_script("return window.rmesosNoReload") == "same page", "the page was reloaded"
        bad = errors(d)
        assert not bad, f"console errors: {bad}"
    finally:
        d.quit()


def standby(standby_addr, leader, shots):
    d = browser()
    try:
        d.get(f"http://{standby_addr}/")
        wait(d, "the leader's UI", lambda d: d.current_url.startswith(f"http://{leader}/"))
        wait(d, "the leader saying it leads", lambda d: "(this master)" in text_of(d, "#overview"))
        shot(d, shots, "standby-to-leader")
        bad = errors(d)
        assert not bad, f"console errors: {bad}"
    finally:
        d.quit()


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    os.makedirs(args[-1], exist_ok=True)
    {"cluster": cluster, "standby": standby}[cmd](*args)
    print("OK")
