"""Playwright plumbing for browser tests: Debian's Chromium at phone size, logging in,
screenshots under docs/screenshots/ and an axe-core check of every page visited.

Browser tests take the `live_server` (pytest-django), so they need
`@pytest.mark.django_db(transaction=True)`; mark them `@pytest.mark.browser`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM (fixtures,
# factories) refuses to run where a loop is running unless told it is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
# axe-core rules we hold every page to: WCAG 2.0/2.1, levels A and AA.
WCAG_TAGS = frozenset({"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"})
PASSWORD = "test-pass-123"  # what tests.factories.UserFactory sets
# The browser asks for Chinese, the default language, as most users' phones do.
LANGUAGE = "zh-hans"


def ui(text: str) -> str:
    """`text` as the page shows it: through the catalog of the browser's language."""
    from django.utils import translation

    with translation.override(LANGUAGE):
        return translation.gettext(text)


_shared_browser = pytest.StashKey[object]()


@pytest.fixture(scope="session")
def browser(request) -> object:
    """One headless Chromium for the whole run. Missing Chromium fails, it never skips.

    Other test packages import these fixtures into their conftest, which makes a
    second copy of this session fixture; both must share one Playwright (its sync
    API refuses to start twice in one thread), so the browser lives in the stash.
    """
    config = request.config
    if _shared_browser not in config.stash:
        if not CHROMIUM.exists():
            pytest.fail(f"Browser tests need Debian's Chromium at {CHROMIUM}; install it with "
                        "`apt-get install -y chromium fonts-noto-cjk` (or run `make test` as "
                        "root).", pytrace=False)
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        config.stash[_shared_browser] = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)

        def close() -> None:
            config.stash[_shared_browser].close()
            del config.stash[_shared_browser]
            playwright.stop()

        config.add_cleanup(close)
    return config.stash[_shared_browser]


@pytest.fixture
def phone_page(browser, live_server) -> Iterator:
    """A fresh page (own cookies) in a phone-sized window, against the live server."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page) -> list[dict]:
    """WCAG 2.x A/AA violations axe-core finds on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if WCAG_TAGS & set(v["tags"])]


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {node['target']}: {node.get('failureSummary', '')}".replace("\n", " ")
                     for node in violation["nodes"][:5])
    return "\n".join(lines)


@pytest.fixture
def check_accessibility() -> Callable:
    """check_accessibility(page): fail the test on any WCAG 2.x A/AA violation."""

    def check(page) -> None:
        violations = axe_violations(page)
        assert not violations, (f"axe-core found accessibility violations on {page.url}:\n"
                                + format_violations(violations))

    return check


@pytest.fixture
def visit(check_accessibility) -> Callable:
    """visit(page, action): run a navigation (a callable), wait, and check the page."""

    def go(page, action: Callable[[], object]) -> None:
        action()
        page.wait_for_load_state("networkidle")
        check_accessibility(page)

    return go


@pytest.fixture
def log_in(check_accessibility) -> Callable:
    """log_in(page, user): log in on /login/ as a user made by UserFactory."""

    def do(page, user, password: str = PASSWORD) -> None:
        page.goto("/login/")
        check_accessibility(page)
        page.get_by_label(ui("Mobile number")).fill(user.phone)
        page.get_by_label(ui("Password")).fill(password)
        page.get_by_role("button", name=ui("Log in")).click()
        page.wait_for_load_state("networkidle")
        assert "/login/" not in page.url, "login failed"

    return do


@pytest.fixture
def screenshot() -> Callable:
    """screenshot(page, name): save a full-page PNG as docs/screenshots/<name>.png."""

    def take(page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
