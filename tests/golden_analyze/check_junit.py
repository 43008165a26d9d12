#!/usr/bin/env python3
"""Checks JUnit reports: well-formed XML, counts that match the testcases, a message on every
failure. Usage: check_junit.py REPORT..."""
import sys
import xml.etree.ElementTree as ET

status = 0
for path in sys.argv[1:]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites", path
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        failures = [c for c in cases if c.find("failure") is not None]
        skipped = [c for c in cases if c.find("skipped") is not None]
        if int(suite.get("tests")) != len(cases) or int(suite.get("failures")) != len(failures) \
                or int(suite.get("skipped")) != len(skipped):
            print(f"{path}: counts do not match the testcases")
            status = 1
        for c in cases:
            if not c.get("classname") or not c.get("name"):
                print(f"{path}: testcase without classname/name")
                status = 1
            f = c.find("failure")
            if f is not None and not f.get("message"):
                print(f"{path}: failure without a message in {c.get('name')}")
                status = 1
    print(f"{path}: ok")
sys.exit(status)
