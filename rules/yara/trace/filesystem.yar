// File-system writes that become code later.

rule fs_write_functions
{
    meta:
        id = "fs.write"
        severity = "critical"
        score = 100
        description = "imports a function that opens, writes, copies or removes files"
        reference = "THREATS.md 5: file writes"
    strings:
        $a = /\nIMPORT (builtins|io|_io) (open|open_code|FileIO) /
        $b = /\nIMPORT (shutil|tempfile|fileinput) /
        $c = /\nIMPORT pathlib [A-Za-z]*Path\.(write_text|write_bytes|open|unlink|rename|replace|touch|mkdir|symlink_to|chmod) /
    condition:
        any of them
}

rule fs_startup_file_target
{
    meta:
        id = "fs.startup_file"
        severity = "high"
        score = 80
        description = "a call names a file that Python or a shell runs at start-up (.pth, sitecustomize, .bashrc, crontab, authorized_keys)"
        reference = "THREATS.md 5: file writes that become code later"
    strings:
        $a = /\nCALL [^\n]*(\.pth'|sitecustomize|usercustomize|\.bashrc|\.profile'|\.zshrc|crontab|authorized_keys|\.ssh\/)/
    condition:
        $a
}
