"""The browsable report, opened in a real headless browser: every page loads without console
errors, the math renders with a real size (MathML, no JavaScript), and screenshots are saved."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from optverify.cli import main

CARDS = ["gd.quadratic.critical_step", "heavy_ball.quadratic.critical_step", "zo_gd.quadratic.ms_critical_step",
         "rlhf_dpo.policy_misspecified", "sam.quadratic.two_cycle", "heavy_ball.smooth.modified_loss"]


def _browser():
    missing = [t for t in ("chromium", "chromedriver") if shutil.which(t) is None]
    try:
        from selenium import webdriver
    except ImportError:
        missing.append("selenium")
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing in CI: .ci/run installs chromium and chromium-driver")
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1600"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def test_report_pages_load_and_math_renders(tmp_path, capsys):
    site = tmp_path / "site"
    assert main(["report", *CARDS, "--html", str(site), "--workers", "1", "--examples", "20", "--no-simulate"]) == 0
    capsys.readouterr()
    pages = sorted(site.glob("*.html"))
    assert (site / "index.html") in pages and len(pages) == len(CARDS) + 1
    from selenium.webdriver.common.by import By
    driver = _browser()
    shots = Path(os.environ.get("OPTVERIFY_SCREENSHOTS", tmp_path / "shots"))
    shots.mkdir(parents=True, exist_ok=True)
    try:
        for page in pages:
            driver.get(page.as_uri())
            errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
            assert not errors, (page.name, errors)
            assert driver.title
            if page.name == "index.html":
                links = driver.find_elements(By.CSS_SELECTOR, "td a")
                assert len(links) == len(CARDS)
                assert "VERIFIED" in driver.find_element(By.TAG_NAME, "table").text
            else:
                maths = driver.find_elements(By.TAG_NAME, "math")
                assert maths, page.name
                for m in maths:  # rendered, not just present: a real box around the formula
                    size = m.size
                    assert size["width"] > 20 and size["height"] > 8, (page.name, size)
                headers = [th.text for th in driver.find_elements(By.TAG_NAME, "th")]
                assert headers[:4] == ["check", "route", "examples", "verdict"], headers  # which route, how much evidence
                fracs = driver.find_elements(By.TAG_NAME, "mfrac")
                assert all(f.size["height"] > 15 for f in fracs)  # a fraction stacks (two lines of math)
            assert driver.save_screenshot(str(shots / (page.stem + ".png")))
    finally:
        driver.quit()
    assert len(list(shots.glob("*.png"))) == len(pages)
