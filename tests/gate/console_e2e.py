#!/usr/bin/python3
"""console_e2e.py - the officer's console end to end in a real browser.

A real lane daemon (platewatchd) reads a generated drive-by recording with
JPEG crops and publishes over CURVE to platewatch-gate, which decides against
two declarations (AB123CD declared: RELEASE; WX48218 declared, WX48213
passes: MANUAL) and serves its console. Headless Chromium, driven through
chromium-driver by Selenium, logs in, sees the daemon's vehicle arrive in the
live view, releases the MANUAL vehicle with a reason, and finds the
resolution in search; the test then checks the audit row (officer, action,
declaration) in the gate's store, the published decision on the gate's
output, /metrics, and export-corrections' crop and plate. Screenshots are kept in the build folder
(console-e2e-*.png).

Usage: console_e2e.py BUILD_DIR OUT_DIR. Exits 77 (skipped, with the reason
on stdout) where no browser can run.
"""
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77
LIVENESS_S = 120   # a limit for a stuck run, not a measurement


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(SKIP)


try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    skip("python3-selenium is not installed")

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
if not CHROMIUM or not DRIVER:
    skip("chromium or chromium-driver is not installed")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args, **kw):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, **kw)


def main():
    build, out = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="pw-console-e2e-")
    pw = os.environ["PW_PLATEWATCH"]
    gate = os.environ["PW_GATE"]
    video = os.path.join(tmp, "lane.webm")
    run(os.environ["PW_SYNTH"], "drive", "--out", video,
        "--plates", "AB-123-CD:FR,WX 48213:PL")
    os.makedirs(os.path.join(tmp, "clients"))
    run(pw, "keygen", os.path.join(tmp, "server"))
    run(pw, "keygen", os.path.join(tmp, "clients", "gate"))
    pub, rep, port = free_port(), free_port(), free_port()
    with open(os.path.join(tmp, "lane.conf"), "w") as f:
        f.write(f"""[site]
id = e2e
[security]
secret_key = {tmp}/server.key
allow_list = {tmp}/clients
[lane l01]
source = file://{video}
camera = cam1
countries = FR,PL
publish = tcp://127.0.0.1:{pub}
replay = tcp://127.0.0.1:{rep}
journal = {tmp}/lane.journal
final_after_ms = 800
pace = true
jpeg_crops = true
""")
    store = os.path.join(tmp, "gate.db")
    conf = os.path.join(tmp, "gate.conf")
    with open(conf, "w") as f:
        f.write(f"""[gate]
store = {store}
[events]
endpoint = tcp://127.0.0.1:{pub}
replay_endpoint = tcp://127.0.0.1:{rep}
server_public_key = {tmp}/server.pub
client_secret_key = {tmp}/clients/gate.key
backfill = true
[console]
listen = 127.0.0.1:{port}
""")
    window = ["--from", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600)),
              "--until", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))]
    run(gate, "-C", conf, "add", "-r", "E2E-AB123CD", "-v", "AB123CD", *window)
    run(gate, "-C", conf, "add", "-r", "E2E-WX48218", "-v", "WX48218", *window)
    subprocess.run([gate, "-C", conf, "user", "add", "alice"], input=b"e2e-password\n",
                   check=True)
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    decisions = open(os.path.join(tmp, "decisions.jsonl"), "w")
    procs = [subprocess.Popen([gate, "-C", conf, "run"], stdout=decisions)]
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    procs.append(subprocess.Popen([os.environ["PW_PLATEWATCHD"], "--config",
                                   os.path.join(tmp, "lane.conf")], env=env,
                                  stderr=open(os.path.join(tmp, "platewatchd.log"), "w")))
    opts = Options()
    opts.binary_location = CHROMIUM
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run", "--window-size=1400,1000",
              "--user-data-dir=" + os.path.join(tmp, "chromium-profile")]:
        opts.add_argument(a)
    try:
        browser = webdriver.Chrome(service=Service(DRIVER), options=opts)
    except Exception as e:  # noqa: BLE001 - any failure to start means no browser here
        for p in procs:
            p.terminate()
        skip("headless chromium cannot start here: " + str(e).splitlines()[0])
    status = 1
    try:
        status = drive(browser, base, out)
        status = status or check_store(store, decisions.name, base)
        status = status or check_export(gate, conf, tmp)
    finally:
        browser.quit()
        for p in procs:
            p.terminate()
            p.wait(timeout=30)
        decisions.close()
        if status == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept for diagnosis: " + tmp)
    return status


def shot(browser, out, name):
    path = os.path.join(out, f"console-e2e-{name}.png")
    browser.save_screenshot(path)
    print("screenshot: " + path)



def resolved_in_queue(browser):
    """The MANUAL item shows its RELEASE, or has left the queue. The live
    updates re-render the list, so an element found before the click may be
    gone: it is looked up again each time."""
    try:
        items = [i for i in browser.find_elements(By.CSS_SELECTOR, ".manual-item")
                 if "WX48213" in i.text]
        return not items or any("RELEASE recorded" in i.text for i in items)
    except StaleElementReferenceException:
        return False

def drive(browser, base, out):
    wait = WebDriverWait(browser, LIVENESS_S)
    browser.get(base + "/")
    assert browser.current_url.endswith("/login"), browser.current_url
    browser.find_element(By.ID, "user").send_keys("alice")
    browser.find_element(By.ID, "password").send_keys("e2e-password")
    browser.find_element(By.ID, "submit").click()
    wait.until(lambda b: b.find_element(By.ID, "who").text.startswith("alice"))
    cookie = browser.get_cookie("pw_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict", cookie
    # The daemon's vehicles arrive in the live view over the event stream, with crops.
    wait.until(lambda b: any("WX48213" in c.text for c in b.find_elements(By.CSS_SELECTOR,
                                                                            "#lanes .card")))
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#lanes .card img"))
    shot(browser, out, "live")
    browser.find_element(By.ID, "tab-manual").click()
    item = wait.until(lambda b: next((i for i in b.find_elements(By.CSS_SELECTOR,
                                                                 ".manual-item")
                                      if "WX48213" in i.text), None))
    assert "WX48218" in item.text, item.text   # the candidate declaration, side by side
    item.find_element(By.CSS_SELECTOR, "input.reason").send_keys("plate checked at the booth")
    shot(browser, out, "manual")
    item.find_element(By.CSS_SELECTOR, "button.release").click()
    wait.until(resolved_in_queue)
    shot(browser, out, "resolved")
    browser.find_element(By.ID, "tab-search").click()
    browser.find_element(By.ID, "search-plate").send_keys("WX482I3")   # I for 1: folded
    browser.find_element(By.ID, "search-go").click()
    wait.until(lambda b: "alice: RELEASE" in b.find_element(By.ID, "search-results").text)
    assert "E2E-WX48218" in browser.find_element(By.ID, "search-decls").text
    shot(browser, out, "search")
    return 0


def check_store(store, decisions, base):
    db = sqlite3.connect(store)
    rows = db.execute("SELECT officer, action, reference, reason, read_plate, published"
                      " FROM reviews").fetchall()
    db.close()
    want = [("alice", "RELEASE", "E2E-WX48218", "plate checked at the booth", "WX48213", 1)]
    if rows != want:
        print(f"audit rows {rows}, expected {want}")
        return 1
    with open(decisions) as f:
        published = [line for line in f if '"officer_release"' in line]
    if len(published) != 1:
        print(f"the gate printed {len(published)} officer decisions, expected 1")
        return 1
    metrics = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
    if 'platewatch_gate_officer_decisions_total{decision="RELEASE"} 1' not in metrics:
        print("metrics lack the officer's release:\n" + metrics)
        return 1
    print("audit row, published decision and metrics agree")
    return 0


def check_export(gate, conf, tmp):
    """The officer's release, exported as a crop and its plate for models/train/."""
    out = os.path.join(tmp, "corrections")
    run(gate, "-C", conf, "export-corrections", out)
    with open(os.path.join(out, "labels.csv")) as f:
        rows = [line.strip().split(",") for line in f]
    if rows[0] != ["image", "plate_text"] or len(rows) != 2 or rows[1][1] != "WX48213":
        print(f"labels.csv is {rows}")
        return 1
    with open(os.path.join(out, rows[1][0]), "rb") as f:
        if f.read(2) != b"\xff\xd8":
            print(rows[1][0] + " is not a JPEG")
            return 1
    print("export-corrections wrote the crop and its plate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
