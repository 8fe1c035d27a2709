#!/usr/bin/python3
"""Puts one benchmark's section into bench/RESULTS.md: replaces the text
between its `<!-- NAME:begin` and `<!-- NAME:end -->` markers, or appends
the section; every other benchmark's section stays as it is.

usage: write_results_section.py RESULTS.md NAME SECTION_FILE"""
import os
import re
import sys

results, name, section_file = sys.argv[1:4]
section = open(section_file).read().rstrip("\n") + "\n"
text = open(results).read() if os.path.exists(results) else "# Benchmark results\n"
pattern = re.compile(r"<!-- " + re.escape(name) + r":begin.*?<!-- " + re.escape(name) + r":end -->\n?", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text, count=1)
else:
    text = text.rstrip("\n") + "\n\n" + section
open(results, "w").write(text)
