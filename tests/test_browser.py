"""The built book in a real browser, with the network cut off.

Headless Chromium (Debian's ``chromium``; ``make test`` installs it when missing) opens
every page of the book from ``_build/html`` over ``file://`` in the light theme, and the
pages of :data:`DARK_PAGES`, which between them hold every kind of content (diagrams,
tables, figures, formulas, code cells and their outputs, a long listing, references), in
the dark one too (the reader's system preference, as the theme's "auto" mode follows it;
one theme's style sheet serves every page). Every request that is not a local file is
refused and recorded. Each page is then read as a student would see it: formulas
typeset, images loaded and described, no error output, every internal link and anchor
resolving, code readable in both themes.
Screenshots of every page (JPEG) land in ``_build/screenshots/``.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from autograder import REPO
from tests import support

pytestmark = pytest.mark.slow

SCREENSHOTS = REPO / "_build" / "screenshots"
THEMES = ("light", "dark")
DARK_PAGES = (
    "book/intro",
    "book/03-attention/attention",
    "book/12-backprop/backprop",
    "book/13-training/training",
    "book/train_sorter",
    "book/references",
)
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Runs in the page once MathJax has finished: everything the tests below look at.
INSPECT = r"""
() => {
  const content = document.querySelector("main") || document.body;
  const skip = new Set(["SCRIPT", "STYLE", "PRE", "CODE", "TEXTAREA", "MJX-CONTAINER", "MJX-ASSISTIVE-MML"]);
  const rawTex = [];
  const walker = document.createTreeWalker(content, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let el = node.parentElement; el; el = el.parentElement) {
        if (skip.has(el.tagName)) return NodeFilter.FILTER_REJECT;
      }
      return NodeFilter.FILTER_ACCEPT;
    },
  });
  while (walker.nextNode()) {
    const t = walker.currentNode.textContent;
    const m = t.match(/\$[^$\s][^$]*\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\\frac|\\sqrt/);
    if (m) rawTex.push(t.trim().slice(0, 120));
  }
  const mathEls = [...content.querySelectorAll(".math")];
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const opaqueBackground = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return rgb(getComputedStyle(document.body).backgroundColor).slice(0, 3);
  };
  const lowContrast = [];
  const checkText = (el) => {
    if (!el.textContent.trim() || el.offsetParent === null) return;
    const ratio = contrast(rgb(getComputedStyle(el).color).slice(0, 3), opaqueBackground(el));
    const text = el.textContent.trim().slice(0, 30);
    if (ratio < 4.5) lowContrast.push(`${el.className || el.tagName}: ${ratio.toFixed(2)} "${text}"`);
  };
  const checked = [...content.querySelectorAll("div.highlight pre span, div.highlight pre, article p")];
  checked.forEach(checkText);
  return {
    theme: document.documentElement.dataset.theme,
    title: (document.querySelector("h1") || {}).textContent || "",
    mathElements: mathEls.length,
    typeset: mathEls.filter((el) => el.querySelector("mjx-container")).length,
    texErrors: [...content.querySelectorAll("mjx-merror")].map((el) => el.textContent.slice(0, 80)),
    rawTex,
    images: [...document.querySelectorAll("img")].map((img) => ({
      src: img.getAttribute("src"),
      alt: img.getAttribute("alt") || "",
      loaded: img.complete && img.naturalWidth > 0,
      background: opaqueBackground(img),
      inContent: img.closest("figure, .cell_output") !== null,  // a figure of the chapter
    })),
    errorOutputs: [...content.querySelectorAll(
      ".output.error, .output.traceback, .output.stderr, .system-message, .problematic"
    )].map((el) => el.textContent.trim().slice(0, 200)),
    tracebacks: (content.innerText.match(/Traceback \(most recent call last\)|NotImplementedError: Replace/g)
                 || []).length,
    links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
    lowContrast,
    textChecked: checked.length,
  };
}
"""


def chromium_path() -> str:
    path = os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("COURSE_SKIP_BROWSER") == "1":
        pytest.skip("COURSE_SKIP_BROWSER=1: the browser tests were skipped on purpose")
    pytest.fail(
        "No Chromium found for the browser tests. `make test` installs Debian's chromium when it can "
        "(apt-get); otherwise set COURSE_CHROMIUM=/path/to/chrome, or COURSE_SKIP_BROWSER=1 to skip them."
    )


def book_pages(html_root: Path) -> list[Path]:
    """Every page of the table of contents, as built."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())

    def files(entries):
        for entry in entries:
            yield entry["file"]
            yield from files(entry.get("sections", []))

    return [
        html_root / f"{f}.html" for f in [toc["root"], *files(c for part in toc["parts"] for c in part["chapters"])]
    ]


@dataclass
class Visit:
    page: str
    theme: str
    report: dict
    errors: list[str] = field(default_factory=list)  # JavaScript errors and console errors
    requests: list[str] = field(default_factory=list)  # anything that was not a local file


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


def open_page(browser, url: str, theme: str) -> tuple:
    """Open url with no network; returns (page, context, errors, refused requests)."""
    context = browser.new_context(color_scheme=theme, viewport={"width": 1280, "height": 900})
    context.set_offline(True)
    refused: list[str] = []

    def only_local(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_local)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"JavaScript error: {exc}"))
    page.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.goto(url, wait_until="load")
    return page, context, errors, refused


@pytest.fixture(scope="module")
def visits(built_book, browser) -> list[Visit]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    results = []
    for path in book_pages(built_book):
        page_id = path.relative_to(built_book).with_suffix("").as_posix()
        for theme in THEMES if page_id in DARK_PAGES else THEMES[:1]:
            page, context, errors, refused = open_page(browser, path.as_uri(), theme)
            # Pages with math load MathJax (deferred, so it has started by "load"): wait for it.
            page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise.then(() => 1) : 0")
            report = page.evaluate(INSPECT)
            slug = path.relative_to(built_book).with_suffix("").as_posix().replace("/", "_")
            if theme == "light" or "intro" in slug:  # the dark theme is checked above; one picture of it is enough
                # Full-page JPEG: a long chapter encodes in half the time a PNG takes.
                page.screenshot(path=str(SCREENSHOTS / f"{slug}-{theme}.jpg"), full_page=True, type="jpeg", quality=75)
            context.close()
            results.append(Visit(path.relative_to(built_book).as_posix(), theme, report, errors, refused))
    return results


def by_page(visits, theme="light"):
    return {v.page: v for v in visits if v.theme == theme}


def _ids(html: Path, cache: dict) -> set[str]:
    if html not in cache:
        cache[html] = set(re.findall(r'\bid="([^"]+)"', html.read_text(encoding="utf-8")))
    return cache[html]


def problems(v: Visit, ids_cache: dict | None = None) -> dict[str, list[str]]:
    """What a reader of this page would trip over, by kind (an empty list: nothing)."""
    r, cache = v.report, {} if ids_cache is None else ids_cache
    found: dict[str, list[str]] = {
        "network requests": list(v.requests),
        "browser errors": list(v.errors),
        "formulas not typeset": [f"{r['mathElements'] - r['typeset']} of {r['mathElements']}"]
        if r["typeset"] != r["mathElements"]
        else [],
        "TeX errors": list(r["texErrors"]),
        "raw TeX in the text": list(r["rawTex"]),
        "images not loaded": [i["src"] for i in r["images"] if not i["loaded"]],
        "images without alt text": [
            i["src"]
            for i in r["images"]
            if not i["alt"].strip()
            or re.search(r"_images/|\.(png|svg|jpg)$", i["alt"].strip())
            or (i["inContent"] and len(i["alt"].strip()) < 60)  # a figure's alt text says what it shows
        ],
        "figures on a dark background": [
            f"{i['src']} on {i['background']}" for i in r["images"] if i["inContent"] and min(i["background"]) < 200
        ]
        if v.theme == "dark"
        else [],
        "text with contrast below 4.5:1": list(r["lowContrast"]),
        "error outputs": list(r["errorOutputs"]) + ["a traceback"] * r["tracebacks"],
        "broken links": [],
    }
    for href in r["links"]:
        parts = urlsplit(href)
        if parts.scheme != "file":
            continue
        target = Path(unquote(parts.path))
        if not target.exists():
            found["broken links"].append(str(target))
        elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _ids(target, cache):
            found["broken links"].append(f"{target.name}#{parts.fragment}")
    return found


def assert_no(kind: str, visits: list[Visit]) -> None:
    cache: dict = {}
    failing = {f"{v.page} ({v.theme})": p[kind][:5] for v in visits if (p := problems(v, cache))[kind]}
    assert not failing, f"{kind}: {failing}"


def test_every_page_opened_in_both_themes(visits, built_book):
    pages = {p.relative_to(built_book).as_posix() for p in book_pages(built_book)}
    assert len(pages) == len(support.course()) + 3, (
        "expected the home page, every chapter, its pages and the references"
    )
    assert {f"{p}.html" for p in DARK_PAGES} <= pages, "a page of DARK_PAGES is not in the table of contents"
    for theme, expected in (("light", pages), ("dark", {f"{p}.html" for p in DARK_PAGES})):
        seen = by_page(visits, theme)
        assert set(seen) == expected
        wrong = [p for p, v in seen.items() if v.report["theme"] != theme]
        assert not wrong, f"the {theme} theme did not apply (the 'auto' mode should follow the system) on {wrong}"
    shots = sorted(SCREENSHOTS.glob("*.jpg"))
    # One screenshot per page in the light theme, and the home page in the dark one too.
    assert len(shots) >= len(pages) + 1 and all(s.stat().st_size > 10_000 for s in shots)


def test_no_request_leaves_the_machine(visits):
    """Every script, style sheet, font and image comes from the build itself."""
    assert_no("network requests", visits)


def test_no_javascript_or_console_errors(visits):
    assert_no("browser errors", visits)


def test_every_formula_is_typeset_offline(visits):
    for kind in ("formulas not typeset", "TeX errors", "raw TeX in the text"):
        assert_no(kind, visits)
    for v in by_page(visits).values():
        if re.match(r"book/\d\d-", v.page):
            assert v.report["typeset"] > 5, f"{v.page} shows hardly any math: is MathJax loading?"


def test_every_image_is_loaded_and_described(visits):
    assert_no("images not loaded", visits)
    assert_no("images without alt text", visits)
    for page, v in by_page(visits).items():
        if re.match(r"book/\d\d-", page):
            assert any(i["inContent"] for i in v.report["images"]), f"{page} has no figure"


def test_plots_sit_on_a_light_background_in_the_dark_theme(visits):
    """Matplotlib draws black text: on a dark page a figure needs its own light card."""
    assert_no("figures on a dark background", visits)


def test_code_and_prose_are_readable_in_both_themes(visits):
    """WCAG AA: a contrast of at least 4.5:1 for every highlighted code token and paragraph."""
    assert_no("text with contrast below 4.5:1", visits)
    for v in visits:
        if re.match(r"book/\d\d-", v.page):
            assert v.report["textChecked"] > 100, f"{v.page}: the contrast check found almost no text to check"


def test_no_error_outputs_or_tracebacks(visits):
    assert_no("error outputs", visits)


def test_internal_links_and_anchors_resolve(visits):
    assert_no("broken links", visits)
    internal = [h for v in by_page(visits).values() for h in v.report["links"] if h.startswith("file:")]
    assert len(internal) > 100, "too few internal links were found: is the navigation there?"


BROKEN_PAGE = """<!DOCTYPE html><html><head>
<script src="https://cdn.example.org/lib.js"></script>
<script>throw new Error("boom");</script>
<script>window.MathJax = {options: {processHtmlClass: "math"}}</script>
<script defer src="MATHJAX"></script>
</head><body><main><article>
<p>A formula without delimiters <span class="math">x^2</span>,
one MathJax cannot parse <span class="math">\\(\\frac{1}\\)</span> and a raw one, $a + b$.</p>
<p style="color: #999; background: #aaa">faint text that nobody can read</p>
<figure><img src="missing.png" alt="missing.png"></figure>
<div class="cell_output"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="a plot"></div>
<div class="output traceback"><pre>Traceback (most recent call last)</pre></div>
<a href="nowhere.html">a broken link</a> <a href="#no-such-anchor">a broken anchor</a>
</article></main></body></html>
"""


def test_the_checks_catch_a_broken_page(built_book, browser, tmp_path):
    """Every check above must be able to fail: a page with one of each mistake trips them all."""
    page_file = tmp_path / "broken.html"
    mathjax = built_book / "_static" / "mathjax" / "tex-chtml.js"
    page_file.write_text(BROKEN_PAGE.replace("MATHJAX", mathjax.as_uri()))
    page, context, errors, refused = open_page(browser, page_file.as_uri(), "dark")
    page.evaluate("() => MathJax.startup.promise.then(() => 1)")
    report = page.evaluate(INSPECT)
    context.close()
    found = problems(Visit("broken.html", "dark", report, errors, refused))
    missed = [kind for kind, items in found.items() if not items]
    assert not missed, f"the checks missed: {missed} in {found}"


def test_index_html_opens_the_home_page(built_book, browser):
    """Opening _build/html/index.html (what the README says) lands on the course's home page."""
    page, context, errors, refused = open_page(browser, (built_book / "index.html").as_uri(), "light")
    page.wait_for_url("**/book/intro.html", timeout=10_000)
    title = page.title()
    context.close()
    assert title.startswith("Attention, from the inside"), title
    assert not errors and not refused, (errors, refused)


def test_chapters_are_numbered_in_reading_order(visits):
    chapters = [v for v in by_page(visits).values() if re.match(r"book/\d\d-", v.page)]
    for v in chapters:
        number = int(v.page.split("/")[1][:2])
        assert v.report["title"].startswith(f"{number}. "), f"{v.page}: title {v.report['title']!r} lacks its number"


def _first_function(contract) -> str:
    for src in contract.answer_sources.values():
        match = re.search(r"^def (\w+)\(", src, re.M)
        if match:
            return match.group(1)
    raise AssertionError(f"{contract.assignment} has no graded function")


def test_search_finds_every_chapters_exercises_offline(built_book, browser):
    for contract in support.course():
        name = _first_function(contract)
        url = (built_book / "search.html").as_uri() + f"?q={name}"
        page, context, errors, refused = open_page(browser, url, "light")
        page.wait_for_selector("#search-results ul.search li a", timeout=15_000)
        hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(a => a.href)")
        context.close()
        assert any(f"/{contract.assignment}/" in h for h in hits), f"searching {name!r} does not find its chapter"
        assert not errors and not refused, (errors, refused)
