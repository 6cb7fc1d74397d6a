"""Sphinx configuration of the okrcore documentation."""

from __future__ import annotations

import sys
from pathlib import Path

# autodoc imports okrcore from the checkout, so the docs build without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

project = "okrcore"
author = "okrcore developers"
copyright = "okrcore developers"

try:
    from okrcore import __version__ as release
except Exception:  # pragma: no cover - the docs still build if the package cannot be imported
    release = "0.1.0"
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]

root_doc = "index"
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []

nitpicky = False
default_role = "literal"

# numpy-style docstrings only
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_param = True
napoleon_use_rtype = True
napoleon_use_ivar = True
napoleon_preprocess_types = False

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autoclass_content = "class"
# Members are listed explicitly per module in api.rst; the top-level package is documented by
# its docstring only, so that its re-exports are not documented twice.
autodoc_default_options: dict[str, bool] = {}

html_theme = "alabaster"
html_title = f"okrcore {release}"
html_static_path: list[str] = []
html_theme_options = {
    "description": "One trustworthy, documented calculation of OKR progress.",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
}
