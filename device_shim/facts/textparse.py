"""Parse the `key: value` text that /proc files and many tools print."""


def split_pair(line, separator=":"):
    """Split a `key : value` line on its first separator; return (key, value) or None.

    Keys are lower-cased and stripped, because kernels pad them with tabs and
    pasted copies with spaces.
    """
    if separator not in line:
        return None
    key, value = line.split(separator, 1)
    key = key.strip().lower()
    if not key:
        return None
    return key, value.strip()


def parse_pairs(text, separator=":"):
    """Return the `key: value` lines of text as a dict; the first occurrence of a key wins."""
    pairs = {}
    for line in (text or "").splitlines():
        pair = split_pair(line, separator)
        if pair is not None and pair[0] not in pairs:
            pairs[pair[0]] = pair[1]
    return pairs


def parse_ranges(text):
    """Return the CPU numbers of a sysfs range list such as `0-3,6`, or None when invalid."""
    numbers = []
    for part in (text or "").strip().split(","):
        part = part.strip()
        if not part:
            continue
        bounds = part.split("-")
        if len(bounds) > 2 or not all(bound.isdigit() for bound in bounds):
            return None
        low, high = int(bounds[0]), int(bounds[-1])
        if high < low or high - low > 65535:
            return None
        numbers.extend(range(low, high + 1))
    return numbers or None
