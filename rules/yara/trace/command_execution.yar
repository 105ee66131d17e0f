// Command execution: process spawning, whatever the module alias.

rule command_os_exec
{
    meta:
        id = "command.os"
        severity = "critical"
        score = 100
        description = "imports a process-spawning function of os (or its aliases posix, nt)"
        reference = "THREATS.md 5: commands; THREATS.md 2: aliases"
    strings:
        $a = /\nIMPORT (os|posix|nt) (system|popen|exec[a-z]*|spawn[a-z]*|fork[a-z]*|startfile|posix_spawnp?) /
        $dotted = /\nIMPORT [A-Za-z_.]+ [A-Za-z_.]*\b(_?os|posix|nt)\.(system|popen|exec[a-z]*|spawn[a-z]*) /
    condition:
        any of them
}

rule command_subprocess
{
    meta:
        id = "command.subprocess"
        severity = "critical"
        score = 100
        description = "imports subprocess, pty or another process launcher"
        reference = "THREATS.md 5: commands"
    strings:
        $a = /\nIMPORT (subprocess|_posixsubprocess|pty|popen2|commands|asyncio\.(subprocess|unix_events|windows_events|base_subprocess)) /
    condition:
        $a
}

rule command_indirect_launcher
{
    meta:
        id = "command.launcher"
        severity = "critical"
        score = 100
        description = "imports a helper that runs a command indirectly (pydoc pagers, pip, ctypes, webbrowser)"
        reference = "THREATS.md 5: commands"
    strings:
        $a = /\nIMPORT pydoc (pipepager|tempfilepager|getpager|pager) /
        $b = /\nIMPORT (pip|_pip|pip\._internal[A-Za-z_.]*) /
        $c = /\nIMPORT (ctypes|_ctypes)[A-Za-z_.]* /
        $d = /\nIMPORT webbrowser /
    condition:
        any of them
}

rule command_shell_string_argument
{
    meta:
        id = "command.shell_string"
        severity = "high"
        score = 80
        description = "a call receives what looks like a shell command line"
        reference = "THREATS.md 5: commands"
    strings:
        $a = /\nCALL [^\n]* @[0-9]+ [A-Z_]+ [^\n]*(\/bin\/(ba|z|da)?sh|sh -c|bash -[ci]|cmd(\.exe)? \/c|powershell|curl |wget |nc -e|\/dev\/tcp\/|chmod \+x)/
    condition:
        $a
}
