#!/bin/sh
# Inventory for devices without python3: prints one JSON object with the keys
# of the Python shim's `inventory` reply, null for each fact it cannot read,
# and `"limited": true`. POSIX sh and busybox ash compatible; the console runs
# it as `sh -s` with this script on stdin, so nothing here reads stdin.
#
# Files are read under ${EDGETUI_SHIM_ROOT:-/}, like the Python shim's --root.

SHIM_VERSION="0.1.0"
LC_ALL=C
export LC_ALL

ROOT="${EDGETUI_SHIM_ROOT:-/}"
case "$ROOT" in
    */) ;;
    *) ROOT="$ROOT/" ;;
esac

# Print a device file under the root prefix, or nothing when it is unreadable.
read_file() {
    _path="${ROOT}${1#/}"
    if [ -f "$_path" ] && [ -r "$_path" ]; then
        cat "$_path" 2>/dev/null
    fi
}

# Print the first line of a device file, without device-tree NULs or a trailing CR.
read_value() {
    read_file "$1" | tr -d '\000\r' | sed -n '1p'
}

# Print the first value of a `key : value` line of /proc/cpuinfo; $1 is the
# lower-case key. Numeric values are skipped for keys such as `model`, which
# x86 uses for a model number and the Raspberry Pi kernel for the board name.
cpuinfo_text_value() {
    read_file /proc/cpuinfo | awk -v key="$1" '
        {
            i = index($0, ":")
            if (i == 0) next
            k = substr($0, 1, i - 1)
            sub(/^[ \t]+/, "", k); sub(/[ \t]+$/, "", k)
            v = substr($0, i + 1)
            sub(/^[ \t]+/, "", v); sub(/[ \t\r]+$/, "", v)
            if (tolower(k) == key && v != "" && v !~ /^[0-9]+$/) { print v; exit }
        }'
}

# Print a value of an os-release style file ($1) for key $2, with shell
# quotes and backslash escapes removed. The last assignment wins; lines with
# unbalanced quotes are skipped.
release_value() {
    read_file "$1" | awk -v key="$2" -v sq="'" '
        index($0, key "=") == 1 {
            v = substr($0, length(key) + 2)
            sub(/[ \t\r]+$/, "", v)
            first = substr(v, 1, 1)
            if (first == "\"" || first == sq) {
                if (length(v) < 2 || substr(v, length(v), 1) != first) next
                v = substr(v, 2, length(v) - 2)
            }
            if (first != sq) {
                out = ""
                while ((i = index(v, "\\")) > 0) {
                    out = out substr(v, 1, i - 1) substr(v, i + 1, 1)
                    v = substr(v, i + 2)
                }
                v = out v
            }
            value = v
            found = 1
        }
        END { if (found) print value }'
}

# Print $1 as a JSON string, or null when empty. Control characters become
# \u00XX; bytes outside ASCII are dropped, because sh cannot check that they
# form valid UTF-8.
json_string() {
    if [ -z "$1" ]; then
        printf 'null'
        return
    fi
    printf '%s' "$1" | tr -d '\000\200-\377' | awk '
        BEGIN { for (i = 1; i < 32; i++) control[sprintf("%c", i)] = sprintf("\\u%04x", i) }
        {
            line = ""
            for (i = 1; i <= length($0); i++) {
                c = substr($0, i, 1)
                if (c == "\\") line = line "\\\\"
                else if (c == "\"") line = line "\\\""
                else if (c in control) line = line control[c]
                else line = line c
            }
            out = (NR > 1) ? out "\\n" line : line
        }
        END { printf "\"%s\"", out }'
}

# Print $1 as a JSON integer, or null when it is not a non-negative integer.
json_int() {
    case "$1" in
        '' | *[!0-9]*) printf 'null' ;;
        *) printf '%s' "$1" ;;
    esac
}

normalize_arch() {
    case "$1" in
        arm64) echo aarch64 ;;
        amd64) echo x86_64 ;;
        *) echo "$1" ;;
    esac
}

# Infer the architecture from /proc/cpuinfo when uname cannot be run.
arch_from_cpuinfo() {
    read_file /proc/cpuinfo | awk '
        {
            i = index($0, ":")
            if (i == 0) next
            k = substr($0, 1, i - 1)
            sub(/^[ \t]+/, "", k); sub(/[ \t]+$/, "", k); k = tolower(k)
            v = substr($0, i + 1)
            sub(/^[ \t]+/, "", v); sub(/[ \t\r]+$/, "", v)
        }
        k == "vendor_id" { vendor = 1 }
        k == "flags" && flags == "" { flags = " " v " " }
        k == "isa" && isa == "" { isa = tolower(v) }
        k == "model name" && model == "" { model = v }
        k == "processor" && v !~ /^[0-9]+$/ && model == "" { model = v }
        k == "cpu architecture" && carch == "" { carch = tolower(v) }
        k == "features" && features == "" { features = " " v " " }
        k == "cpu model" && cpumodel == "" { cpumodel = v }
        k == "system type" { systype = 1 }
        END {
            if (vendor || flags != "") { print (flags ~ / lm /) ? "x86_64" : "i686"; exit }
            if (isa ~ /^rv64/) { print "riscv64"; exit }
            if (isa ~ /^rv32/) { print "riscv32"; exit }
            if (tolower(model) ~ /aarch64/) { print "aarch64"; exit }
            # ARM1176 reports `CPU architecture: 7` but names itself `(v6l)`.
            if (match(model, /\(v[0-9]+[a-z]*\)[ \t]*$/)) {
                s = substr(model, RSTART + 1); sub(/\).*/, "", s); print "arm" s; exit
            }
            if (carch == "8" || carch == "aarch64" || features ~ / asimd /) { print "aarch64"; exit }
            if (carch ~ /^[0-9]/) { n = carch; sub(/[^0-9].*/, "", n); print "armv" n "l"; exit }
            if (toupper(cpumodel) ~ /^MIPS/ || systype) { print "mips"; exit }
        }'
}

collect_arch() {
    _arch=$(uname -m 2>/dev/null | sed -n '1p')
    case "$_arch" in *" "*) _arch="" ;; esac
    if [ -z "$_arch" ]; then
        # The machine field, searched from the end after node name and release.
        _arch=$(uname -a 2>/dev/null | awk '{
            for (i = NF; i > 3; i--)
                if ($i ~ /^(x86_64|amd64|i[3-6]86|aarch64|arm64|armv[0-9]+[a-z]*|mips[a-z0-9_]*|riscv32|riscv64|ppc64|ppc64le|s390x|loongarch64)$/) { print $i; exit }
        }')
    fi
    if [ -z "$_arch" ]; then
        _arch=$(arch_from_cpuinfo)
    fi
    normalize_arch "$_arch"
}

collect_kernel() {
    _kernel=$(uname -r 2>/dev/null | sed -n '1p')
    case "$_kernel" in *" "*) _kernel="" ;; esac
    if [ -z "$_kernel" ]; then
        _kernel=$(uname -a 2>/dev/null | awk 'NR == 1 && $3 ~ /^[0-9]/ { print $3 }')
    fi
    if [ -z "$_kernel" ]; then
        _kernel=$(read_value /proc/sys/kernel/osrelease)
    fi
    if [ -z "$_kernel" ]; then
        _kernel=$(read_file /proc/version | awk '$1 == "Linux" && $2 == "version" { print $3; exit }')
    fi
    echo "$_kernel"
}

# Print the first dotted version number in $1.
first_version() {
    printf '%s\n' "$1" | awk 'match($0, /[0-9]+(\.[0-9]+)+/) { print substr($0, RSTART, RLENGTH); exit }'
}

collect_os() {
    for _file in /etc/os-release /usr/lib/os-release; do
        os_id=$(release_value "$_file" ID)
        os_version=$(release_value "$_file" VERSION_ID)
        os_name=$(release_value "$_file" PRETTY_NAME)
        [ -z "$os_name" ] && os_name=$(release_value "$_file" NAME)
        if [ -n "$os_id$os_version$os_name" ]; then
            return
        fi
    done
    # OpenWrt <= 15.05 has only /etc/openwrt_release; its DISTRIB_RELEASE may
    # be a code name such as `Barrier Breaker`.
    for _file in /etc/openwrt_release /etc/lsb-release; do
        os_id=$(release_value "$_file" DISTRIB_ID | tr 'A-Z' 'a-z')
        _release=$(release_value "$_file" DISTRIB_RELEASE)
        os_name=$(release_value "$_file" DISTRIB_DESCRIPTION)
        os_version=$(first_version "$_release")
        [ -z "$os_version" ] && os_version=$(first_version "$os_name")
        [ -z "$os_version" ] && os_version="$_release"
        if [ -n "$os_id$os_version$os_name" ]; then
            return
        fi
    done
}

# Print a DMI field unless it is a placeholder left by the firmware vendor.
dmi_value() {
    _value=$(read_value "/sys/class/dmi/id/$1")
    case "$(printf '%s' "$_value" | tr 'A-Z' 'a-z')" in
        '' | 'to be filled by o.e.m.' | 'default string' | 'system product name' | \
        'system manufacturer' | 'not applicable' | 'not specified' | none | o.e.m. | oem | unknown) ;;
        *) printf '%s' "$_value" ;;
    esac
}

collect_board() {
    _board=$(read_value /proc/device-tree/model)
    [ -z "$_board" ] && _board=$(read_value /sys/firmware/devicetree/base/model)
    if [ -z "$_board" ]; then
        _product=$(dmi_value product_name)
        _vendor=$(dmi_value sys_vendor)
        if [ -n "$_product" ] && [ -n "$_vendor" ]; then
            case "$_product" in
                "$_vendor"*) _board="$_product" ;;
                *) _board="$_vendor $_product" ;;
            esac
        else
            _board="$_product"
        fi
    fi
    [ -z "$_board" ] && _board=$(cpuinfo_text_value model)
    [ -z "$_board" ] && _board=$(cpuinfo_text_value hardware)
    if [ -z "$_board" ]; then
        _board=$(cpuinfo_text_value machine)
        [ "$_board" = "Unknown" ] && _board=""
    fi
    [ -z "$_board" ] && _board=$(cpuinfo_text_value "system type")
    echo "$_board"
}

# Print the CPU model: each CPU block's name (model name, MIPS cpu model,
# RISC-V uarch, or the ARM core named by CPU implementer and part), distinct
# names joined with " + " for big.LITTLE parts.
collect_cpu_model() {
    read_file /proc/cpuinfo | awk '
        BEGIN {
            split("0xb76=ARM1176 0xc07=Cortex-A7 0xc08=Cortex-A8 0xc09=Cortex-A9 0xc0f=Cortex-A15 " \
                  "0xc0e=Cortex-A17 0xd03=Cortex-A53 0xd04=Cortex-A35 0xd05=Cortex-A55 " \
                  "0xd07=Cortex-A57 0xd08=Cortex-A72 0xd09=Cortex-A73 0xd0a=Cortex-A75 " \
                  "0xd0b=Cortex-A76 0xd0c=Neoverse-N1 0xd0d=Cortex-A77 0xd41=Cortex-A78 " \
                  "0xd42=Cortex-A78AE 0xd44=Cortex-X1 0xd46=Cortex-A510 0xd47=Cortex-A710 " \
                  "0xd48=Cortex-X2 0xd80=Cortex-A520 0xd81=Cortex-A720", list, " ")
            for (i in list) { split(list[i], pair, "="); parts[pair[1]] = pair[2] }
        }
        {
            i = index($0, ":")
            if (i == 0) { if ($0 ~ /^[ \t\r]*$/) inblock = 0; next }
            k = substr($0, 1, i - 1)
            sub(/^[ \t]+/, "", k); sub(/[ \t]+$/, "", k); k = tolower(k)
            v = substr($0, i + 1)
            sub(/^[ \t]+/, "", v); sub(/[ \t\r]+$/, "", v)
            if (k == "processor" && v ~ /^[0-9]+$/) { n++; inblock = 1; next }
            if (inblock) { if (blk[n, k] == "") blk[n, k] = v; next }
            if (!(k in g)) g[k] = v
        }
        END {
            out = ""
            for (c = 1; c <= n; c++) {
                impl = blk[c, "cpu implementer"]; if (impl == "") impl = g["cpu implementer"]
                part = tolower(blk[c, "cpu part"]); if (part == "") part = tolower(g["cpu part"])
                pname = ""
                if (impl == "0x41" && (part in parts)) pname = parts[part]
                m = blk[c, "model name"]
                if (m == "") m = blk[c, "cpu model"]
                if (m == "") m = blk[c, "uarch"]
                if (m == "") m = g["model name"]
                if (m == "") m = g["processor"]
                if (m == "") m = g["cpu model"]
                if (pname != "" && (m == "" || m ~ /^(ARMv[0-9]|AArch64 Processor)/)) m = pname
                if (m == "") m = blk[c, "isa"]
                gsub(/[ \t]+/, " ", m)
                if (m != "" && !(m in seen)) { seen[m] = 1; out = (out == "") ? m : out " + " m }
            }
            if (out == "") { out = g["model name"]; if (out == "") out = g["processor"]; if (out == "") out = g["cpu model"] }
            print out
        }'
}

# Print the number of CPUs in a sysfs range list such as `0-3,6`.
count_ranges() {
    awk -F, '{
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^[0-9]+-[0-9]+$/) { split($i, b, "-"); n += b[2] - b[1] + 1 }
            else if ($i ~ /^[0-9]+$/) n++
            else { n = 0; exit }
        }
    } END { if (n > 0) print n }'
}

collect_cpu_cores() {
    _cores=$(read_file /proc/cpuinfo | awk '
        { k = $0; sub(/:.*/, "", k); sub(/[ \t]+$/, "", k) }
        tolower(k) == "processor" && $0 ~ /:[ \t]*[0-9]+[ \t\r]*$/ { n++ }
        END { if (n > 0) print n }')
    [ -z "$_cores" ] && _cores=$(read_value /sys/devices/system/cpu/present | count_ranges)
    [ -z "$_cores" ] && _cores=$(read_value /sys/devices/system/cpu/online | count_ranges)
    [ -z "$_cores" ] && _cores=$(nproc 2>/dev/null)
    echo "$_cores"
}

# Set mem_total_mb and mem_available_mb from /proc/meminfo (kB). Kernels
# before 3.14 have no MemAvailable; then it is estimated from free, buffers and cache.
collect_memory() {
    _memory=$(read_file /proc/meminfo | awk '
        $1 == "MemTotal:" { total = $2 }
        $1 == "MemAvailable:" { available = $2; has_available = 1 }
        $1 == "MemFree:" { free = $2 }
        $1 == "Buffers:" { buffers = $2 }
        $1 == "Cached:" { cached = $2 }
        END {
            if (total == "") exit
            state = "measured"
            if (!has_available) {
                state = "estimated"
                if (free == "") state = "missing"
                available = free + buffers + cached
            }
            printf "%d %d %s\n", total / 1024, available / 1024, state
        }')
    mem_total_mb=""
    mem_available_mb=""
    mem_estimated=""
    if [ -n "$_memory" ]; then
        set -- $_memory
        mem_total_mb="$1"
        [ "$3" != "missing" ] && mem_available_mb="$2"
        [ "$3" = "estimated" ] && mem_estimated=1
    fi
}

# Print the MiB available in the current folder. `df -P` keeps one line per
# file system. Plain `df -k` (old busybox) may wrap a long device name, so the
# data lines are joined before the Available column is read.
collect_disk_free() {
    { df -P -k . 2>/dev/null || df -k . 2>/dev/null; } | awk '
        NR > 1 { line = line " " $0 }
        END { split(line, f, " "); if (f[4] ~ /^[0-9]+$/) print int(f[4] / 1024) }'
}

arch=$(collect_arch)
kernel=$(collect_kernel)
os_id=""
os_version=""
os_name=""
collect_os
board=$(collect_board)
cpu_model=$(collect_cpu_model)
cpu_cores=$(collect_cpu_cores)
collect_memory
disk_free_mb=$(collect_disk_free)

warnings='"reply from the POSIX sh fallback: cpu_clusters, cpu_flags, temperatures, python, onnxruntime, accelerators and container_runtime are not collected"'
if [ -n "$mem_estimated" ]; then
    warnings="$warnings"', "MemAvailable is missing from /proc/meminfo; mem_available_mb is estimated as MemFree + Buffers + Cached"'
fi

printf '{"arch": %s, "kernel": %s, "os_id": %s, "os_version": %s, "os_name": %s, ' \
    "$(json_string "$arch")" "$(json_string "$kernel")" "$(json_string "$os_id")" \
    "$(json_string "$os_version")" "$(json_string "$os_name")"
printf '"board": %s, "cpu_model": %s, "cpu_cores": %s, "cpu_clusters": [], "cpu_flags": [], ' \
    "$(json_string "$board")" "$(json_string "$cpu_model")" "$(json_int "$cpu_cores")"
printf '"mem_total_mb": %s, "mem_available_mb": %s, "disk_free_mb": %s, "temperatures": [], ' \
    "$(json_int "$mem_total_mb")" "$(json_int "$mem_available_mb")" "$(json_int "$disk_free_mb")"
printf '"python": null, "onnxruntime": null, "accelerators": [], "container_runtime": null, '
printf '"limited": true, "warnings": [%s], "shim_version": %s}\n' "$warnings" "$(json_string "$SHIM_VERSION")"
