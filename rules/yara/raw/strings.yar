// Raw rules: matched on a stream's bytes (large blob payloads left out),
// never on the trace. Use them for text that travels as data. Prefer plain
// text strings of four bytes or more: YARA needs such atoms to stay fast.

rule raw_reverse_shell
{
    meta:
        id = "raw.reverse_shell"
        severity = "critical"
        score = 100
        description = "the stream carries a reverse-shell command line next to an import"
        reference = "THREATS.md 5: commands"
    strings:
        $tcp = "/dev/tcp/" ascii
        $nc_sh = "-e /bin/sh" ascii
        $nc_bash = "-e /bin/bash" ascii
        $py = "socket.AF_INET" ascii
        $ps = "New-Object System.Net.Sockets.TCPClient" ascii nocase
    condition:
        any of them and imports > 0
}

rule raw_download_and_run
{
    meta:
        id = "raw.download_run"
        severity = "high"
        score = 80
        description = "the stream carries a download-and-execute command line next to an import"
        reference = "THREATS.md 5: commands"
    strings:
        $a = /(curl|wget) [^\x00\n]{1,200}\| ?(ba)?sh/
        $b = "Invoke-WebRequest" ascii nocase
        $c = "DownloadString(" ascii
    condition:
        any of them and imports > 0
}
