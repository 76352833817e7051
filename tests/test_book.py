"""The built book: every chapter, figures, no tracebacks, nothing from solutions/ or hidden tests."""

from __future__ import annotations

import re
import shutil
from urllib.parse import urlsplit

import pytest
import yaml

from autograder import REPO
from autograder.book import find_leaks, solution_lines
from autograder.contract import load_course
from tests import support

pytestmark = pytest.mark.slow


def chapter_pages(html_root):
    return {c.assignment: html_root / "book" / c.assignment / f"{c.notebook}.html" for c in support.course()}


def test_every_chapter_page_is_built_with_a_figure(built_book):
    assert (built_book / "index.html").exists()
    for assignment, page in chapter_pages(built_book).items():
        assert page.exists(), f"{assignment} was not built"
        assert re.search(r"<img [^>]*src=\"[^\"]+\.(png|svg)", page.read_text()), f"{assignment} has no figure"


def test_built_pages_show_no_tracebacks_or_errors(built_book):
    for page in built_book.rglob("*.html"):
        text = page.read_text()
        for sign in ("Traceback (most recent call last)", "NotImplementedError: Replace", "output_stderr"):
            assert sign not in text, f"{page.relative_to(built_book)} shows {sign!r}"


def test_book_html_contains_no_solution_lines(built_book):
    assert len(solution_lines()) > 10, "the leak check needs real solution lines to look for"
    assert find_leaks(built_book) == []
    assert not (built_book / "solutions").exists() and not (built_book / "_sources" / "solutions").exists()
    for name in ("autograder", "tests", "examples"):
        assert not (built_book / name).exists() and not (built_book / "_sources" / name).exists()


def test_downloadable_sources_are_the_student_versions(built_book):
    for c in load_course(support.SOLUTIONS):
        source = built_book / "_sources" / "book" / c.assignment / f"{c.notebook}.ipynb"
        assert source.exists(), f"no downloadable notebook for {c.assignment}"
        assert "NotImplementedError" in source.read_text()


def test_leak_check_finds_a_planted_solution_line(tmp_path):
    """The leak check itself must be able to fail."""
    line = sorted(solution_lines(), key=len)[-1]
    site = tmp_path / "site"
    (site / "_sources").mkdir(parents=True)
    (site / "index.html").write_text("<p>clean</p>")
    cache = tmp_path / "leak-check.json"
    assert find_leaks(site) == [] and find_leaks(site, cache=cache) == []
    (site / "_sources" / "page.ipynb").write_text('{"source": ["' + line.replace('"', '\\"') + '"]}')
    assert find_leaks(site), f"a planted solution line was not found: {line!r}"
    assert find_leaks(site, cache=cache), "the cache of clean files hid a new leak"
    (site / "index.html").write_text("<p>clean</p>\n<pre>" + line + "</pre>")  # a file already found clean
    assert len(find_leaks(site, cache=cache)) == 2, "the cache hid a leak planted in a file it had seen clean"
    shutil.rmtree(site)


def test_data_files_shipped_with_a_chapter_can_be_downloaded_from_its_page(built_book):
    for c in support.course():
        folder = support.BOOK / c.assignment
        for data in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".ipynb"):
            copies = list((built_book / "_downloads").glob(f"*/{data.name}"))
            assert copies and copies[0].read_bytes() == data.read_bytes(), f"{data.name} is not downloadable"
            page = (built_book / "book" / c.assignment / f"{c.notebook}.html").read_text()
            assert f'/{data.name}"' in page, f"{c.assignment}'s page has no link to {data.name}"


def _chapter_links(page_html: str) -> set[str]:
    """The chapters a page links to from its text (the sidebar and next/previous links excluded)."""
    article = page_html.split('<article class="bd-article">', 1)[-1].split("</article>", 1)[0]
    return set(re.findall(r'href="(?:\.\./)*(?:book/)?(\d\d-[\w-]+)/\w+\.html', article))


def test_chapters_link_to_the_chapters_they_build_on(built_book):
    pages = chapter_pages(built_book)
    intro = (built_book / "book" / "intro.html").read_text()
    assert _chapter_links(intro) == set(pages), "the home page's table should link every chapter"
    for assignment, page in pages.items():
        linked = _chapter_links(page.read_text()) - {assignment}
        assert linked, f"{assignment} links to no other chapter: write [chapter N](../NN-x/x.ipynb) in its prose"


def test_launch_buttons_open_the_student_version_on_colab_and_binder(built_book):
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    repo_path = urlsplit(config["repository"]["url"]).path.strip("/")
    for c in support.course():
        notebook = f"book/{c.assignment}/{c.notebook}.ipynb"
        assert (REPO / notebook).exists()
        page = (built_book / notebook).with_suffix(".html").read_text()
        colab = f"https://colab.research.google.com/github/{repo_path}/blob/main/{notebook}"
        binder = f"https://mybinder.org/v2/gh/{repo_path}/main?urlpath=lab/tree/{notebook}"
        assert f'href="{colab}"' in page, f"{c.assignment}: no Colab button opening {notebook}"
        assert f'href="{binder}"' in page, f"{c.assignment}: no Binder button opening {notebook}"
        assert "solutions/" not in page.split("launch-buttons", 1)[-1][:3000]
    assert (REPO / "binder" / "requirements.txt").exists(), "Binder needs binder/requirements.txt"


def test_bibliography_lists_the_primary_sources_labelled_as_the_text_cites_them(built_book):
    html = (built_book / "book" / "references.html").read_text()
    entries = [re.sub(r"<[^>]+>", " ", e) for e in re.findall(r'role="doc-biblioentry">([\s\S]*?)</div>', html)]
    labels = re.findall(r'<span class="fn-bracket">\[</span>([^<]+)<span class="fn-bracket">\]</span>', html)
    primary = [("Vaswani", "2017"), ("Ba", "2016"), ("He", "2016")]
    primary += [("Xiong", "2020"), ("Sennrich", "2016"), ("Su", "2021")]
    for author, year in primary:
        assert any(re.search(rf"\b{author}\b", e) and year in e for e in entries), f"no reference for {author} {year}"
        labelled = [x for x in labels if re.fullmatch(rf"{author} et al\., {year}[a-z]?", x)]
        assert labelled, f"{author} {year} is not labelled as cited: {labels}"
    assert len(set(labels)) == len(labels), f"two references share a label: {labels}"
    attention = (built_book / "book" / "03-attention" / "attention.html").read_text()
    assert "Vaswani <em>et al.</em>, 2017" in attention, "chapter 3 should cite Vaswani et al., 2017 author-year"


def test_figures_are_numbered_within_their_chapter(built_book):
    for assignment, page in chapter_pages(built_book).items():
        numbers = re.findall(r'<span class="caption-number">([^<]*)</span>', page.read_text())
        chapter = int(assignment[:2])
        expected = [f"Figure {chapter}.{k} " for k in range(1, len(numbers) + 1)]
        assert numbers and numbers == expected, f"{assignment}: figure numbers {numbers}, expected {expected}"
