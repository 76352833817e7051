"""Sphinx extension for the book (loaded through ``local_extensions`` in _config.yml).

- Every page gets each script once. Jupyter Book 1 registers sphinx-thebe's inline
  settings twice (a second ``const THEBE_JS_URL`` is a JavaScript error on every page)
  and loads a vendored MathJax twice.
- Search works from a book opened straight from disk (``file://``): the result list is
  shown without the page excerpts, which the browser forbids fetching from files.
- A figure drawn by a code cell must have alt text (``mystnb.image.alt`` in the cell's
  metadata): the build warns otherwise, and ``-W`` turns that into a failure.
"""

from __future__ import annotations

from docutils import nodes


def _load_mathjax_once(app, config):
    # Jupyter Book adds every .js file under a static path to html_js_files, which would load
    # the vendored MathJax a second time, synchronously and before its configuration.
    config.html_js_files = [f for f in config.html_js_files if not str(f).startswith("mathjax/")]


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


_NO_SUMMARIES_FROM_FILES = (
    'if (location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") '
    "DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;"
)


def setup(app):
    app.add_js_file(None, body=_NO_SUMMARIES_FROM_FILES)
    app.connect("config-inited", _load_mathjax_once)
    app.connect("html-page-context", _dedupe_scripts)
    app.connect("doctree-resolved", _check_alt_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
