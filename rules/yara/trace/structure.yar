// Structural anomalies: what the loader accepts but no pickler writes.

rule structure_ext_opcode
{
    meta:
        id = "structure.ext"
        severity = "critical"
        score = 100
        description = "uses the extension registry (EXT1/EXT2/EXT4), empty in a default interpreter"
        reference = "THREATS.md 4: EXT1/2/4"
    strings:
        $a = /\nCALL copyreg extension registry @[0-9]+ EXT[124] /
    condition:
        $a
}

rule structure_frame_abuse
{
    meta:
        id = "structure.frame"
        severity = "critical"
        score = 90
        description = "FRAME structure no pickler writes (nested, crossed, short or unfinished frames)"
        reference = "THREATS.md 1: FRAME abuse"
    strings:
        $a = /\nANOMALY frame_(nested|crossed|short|unfinished) /
    condition:
        $a
}

rule structure_payload_then_break
{
    meta:
        id = "structure.payload_then_break"
        severity = "high"
        score = 80
        description = "the stream breaks after a dangerous import (the loader has run it by then)"
        reference = "THREATS.md 1: payload first, then a broken stream"
    strings:
        $a = /\nEND broken @/
    condition:
        $a and dangerous > 0
}
