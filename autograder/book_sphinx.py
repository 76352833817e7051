"""Sphinx extension for the book (loaded through ``local_extensions`` in _config.yml).

- Every page gets each script once. Jupyter Book 1 registers sphinx-thebe's inline
  settings twice (a second ``const THEBE_JS_URL`` is a JavaScript error on every page)
  and loads a vendored MathJax twice.
- Figures are numbered per chapter ("Figure 8.2"), not across the whole book: the table
  of contents is not numbered by Sphinx (chapter numbers are part of the titles, so
  that a downloaded notebook keeps them), which would number figures 1 to 34.
- The bibliography is labelled the way the text cites (author-year: "Vaswani et al.,
  2017"), not with pybtex's default alpha labels ("VSP+17").
- Search works from a book opened straight from disk (``file://``): the result list is
  shown without the page excerpts, which the browser forbids fetching from files.
- A figure drawn by a code cell must have alt text (``mystnb.image.alt`` in the cell's
  metadata): the build warns otherwise, and ``-W`` turns that into a failure.
"""

from __future__ import annotations

import re

from docutils import nodes

_NO_SUMMARIES_FROM_FILES = (
    'if (location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") '
    "DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;"
)


def _configure(app, config):
    # Jupyter Book adds every .js file under a static path to html_js_files, which would load
    # the vendored MathJax a second time, synchronously and before its configuration.
    config.html_js_files = [f for f in config.html_js_files if not str(f).startswith("mathjax/")]
    # Sphinx's own figure numbers would run across the book; _number_figures numbers them per
    # chapter. (sphinx_jupyterbook_latex turns numfig on, so this handler runs after it.)
    config.numfig = False


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        key = str(getattr(script, "filename", None) or attributes.get("body", script))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _check_alt_text(app, doctree, docname):
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    for image in doctree.findall(nodes.image):
        alt = (image.get("alt") or "").strip()
        if not alt or alt == image.get("uri"):
            logger.warning(
                "a figure without alt text (set mystnb.image.alt in the metadata of the cell that draws it)",
                location=(docname, image.line),
                type="course",
                subtype="alt",
            )


def _number_figures(app, doctree, docname):
    chapter = re.match(r"book/(\d\d)-", docname)
    if not chapter:
        return
    figures = [f for f in doctree.findall(nodes.figure) if any(isinstance(c, nodes.caption) for c in f.children)]
    for k, figure in enumerate(figures, start=1):
        caption = next(c for c in figure.children if isinstance(c, nodes.caption))
        caption.insert(0, nodes.inline("", f"Figure {int(chapter.group(1))}.{k} ", classes=["caption-number"]))


def _register_author_year_style() -> None:
    from pybtex.plugin import register_plugin
    from pybtex.style.formatting.unsrt import Style as UnsrtStyle
    from pybtex.style.labels import BaseLabelStyle

    class AuthorYearLabels(BaseLabelStyle):
        def format_labels(self, sorted_entries):
            labels = []
            for entry in sorted_entries:
                names = [" ".join(p.last_names) for p in entry.persons.get("author", [])]
                who = names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else f"{names[0]} et al."
                labels.append(f"{who}, {entry.fields.get('year', '')}")
            # Two works with the same label become "He et al., 2016a" and "2016b", in the sorted order.
            counts, seen = {label: labels.count(label) for label in labels}, {}
            for label in labels:
                if counts[label] > 1:
                    seen[label] = seen.get(label, 0) + 1
                    label += "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
                yield label

    class AuthorYearStyle(UnsrtStyle):
        default_label_style = "course-author-year"
        default_sorting_style = "author_year_title"

    register_plugin("pybtex.style.labels", "course-author-year", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", "course-author-year", AuthorYearStyle)


def setup(app):
    _register_author_year_style()
    app.add_js_file(None, body=_NO_SUMMARIES_FROM_FILES)
    app.connect("config-inited", _configure, priority=900)
    app.connect("html-page-context", _dedupe_scripts)
    app.connect("doctree-resolved", _check_alt_text)
    app.connect("doctree-resolved", _number_figures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
