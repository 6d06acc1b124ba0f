"""Outputs of general tools (`uname -a`, `lscpu`, `hostnamectl`), read once per run."""

from device_shim.facts.textparse import parse_pairs


def uname_all_fields(ctx):
    """Return the whitespace-separated fields of `uname -a`, or [] when it fails."""
    output = ctx.output(["uname", "-a"])
    return output.split() if output else []


def lscpu_pairs(ctx):
    """Return `lscpu` as a lower-case key dict; used only when /proc/cpuinfo lacks a fact.

    lscpu >= 2.37 indents keys in a hierarchy; splitting on the first colon and
    stripping handles both layouts. Its Flags value wraps at the terminal width,
    so flags are never read from it.
    """
    return ctx.memo("lscpu", lambda: parse_pairs(ctx.output(["lscpu"])))


def hostnamectl_pairs(ctx):
    """Return `hostnamectl` as a lower-case key dict (systemd machines only)."""
    return ctx.memo("hostnamectl", lambda: parse_pairs(ctx.output(["hostnamectl"])))
