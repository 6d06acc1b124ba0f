"""Parse /proc/cpuinfo into global lines and one block per logical CPU."""

from device_shim.facts.textparse import split_pair


class CpuInfo(object):
    """The lines of /proc/cpuinfo: `blocks` per `processor : N`, `globals` outside them.

    Global lines are the MIPS header (`system type`, `machine`), the Raspberry Pi
    trailer (`Hardware`, `Revision`, `Model`) and, on old 32-bit ARM kernels,
    `Processor` and the CPU id lines printed once after all the blocks.
    """

    def __init__(self, blocks, globals_):
        self.blocks = blocks
        self.globals = globals_

    def get(self, key):
        """Return the first value of key in a block, else in the global lines, else None."""
        for block in self.blocks:
            if block.get(key):
                return block[key]
        return self.globals.get(key) or None

    def values(self, key):
        """Return key's value for each CPU block, falling back to the global value."""
        fallback = self.globals.get(key)
        return [block.get(key, fallback) for block in self.blocks]


def parse_cpuinfo(text):
    """Parse /proc/cpuinfo text; malformed lines are skipped."""
    blocks = []
    globals_ = {}
    current = None
    for line in (text or "").splitlines():
        if not line.strip():
            # A blank line ends a CPU block; later lines until the next
            # `processor` belong to the whole system.
            current = None
            continue
        pair = split_pair(line)
        if pair is None:
            continue
        key, value = pair
        if key == "processor" and value.isdigit():
            current = {"processor": value}
            blocks.append(current)
            continue
        target = current if current is not None else globals_
        target.setdefault(key, value)
    return CpuInfo(blocks, globals_)


def load_cpuinfo(ctx):
    """Return the parsed <root>/proc/cpuinfo, or None when it is missing."""

    def parse():
        text = ctx.read_text("/proc/cpuinfo")
        return parse_cpuinfo(text) if text is not None else None

    return ctx.memo("cpuinfo", parse)
