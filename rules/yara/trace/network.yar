// Network access at load time.

rule network_modules
{
    meta:
        id = "net.module"
        severity = "critical"
        score = 100
        description = "imports a network client or socket module"
        reference = "THREATS.md 5: network"
    strings:
        $a = /\nIMPORT (socket|_socket|ssl|urllib[A-Za-z0-9_.]*|http\.client|http\.server|httplib|smtplib|ftplib|telnetlib|poplib|imaplib|nntplib|xmlrpc[A-Za-z_.]*|socketserver|requests[A-Za-z_.]*|urllib3[A-Za-z_.]*|aiohttp[A-Za-z_.]*|paramiko[A-Za-z_.]*) /
    condition:
        $a
}

rule network_endpoint_argument
{
    meta:
        id = "net.endpoint"
        severity = "medium"
        score = 50
        description = "a call receives a URL or a host:port"
        reference = "THREATS.md 5: network"
    strings:
        $url = /\nCALL [^\n]*'(https?|ftp|wss?):\/\/[^\n]/
        $hostport = /\nCALL [^\n]*\('[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}', [0-9]{2,5}\)/
    condition:
        any of them
}
