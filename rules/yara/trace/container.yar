// Container tampering: events of the zip walker (docs/RULES.md, "ZIP"
// lines of the container trace). A real loader reads one of two
// inconsistent views; which one depends on the reader.

rule container_member_confusion
{
    meta:
        id = "container.member_confusion"
        severity = "high"
        score = 80
        description = "zip members readers disagree on: duplicate names, local header names or methods that differ from the central directory, members it does not list"
        reference = "THREATS.md 7"
    strings:
        $a = /\nZIP (duplicate_name|name_mismatch|header_mismatch|unlisted_member) @/
    condition:
        $a
}

rule container_integrity
{
    meta:
        id = "container.integrity"
        severity = "high"
        score = 70
        description = "a zip member whose CRC does not match, or that uses a method torch and numpy cannot read"
        reference = "THREATS.md 7"
    strings:
        $a = /\nZIP (bad_crc|unsupported_method) @/
    condition:
        $a
}

rule container_hidden_bytes
{
    meta:
        id = "container.hidden_bytes"
        severity = "medium"
        score = 40
        description = "bytes of a zip archive that belong to no member"
        reference = "THREATS.md 7"
    strings:
        $a = /\nZIP hidden_bytes @/
    condition:
        $a
}

rule container_odd_flags
{
    meta:
        id = "container.odd_flags"
        severity = "low"
        score = 20
        description = "a zip member with general-purpose flags no writer of model files sets"
        reference = "THREATS.md 7"
    strings:
        $a = /\nZIP odd_flags @/
    condition:
        $a
}

rule container_polyglot
{
    meta:
        id = "container.polyglot"
        severity = "high"
        score = 70
        description = "the file is a pickle and a zip archive at once: loaders disagree on what it is"
        reference = "THREATS.md 7: polyglots"
    strings:
        $a = /\nZIP polyglot @/
    condition:
        $a
}
