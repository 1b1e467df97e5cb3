using Offhost.Testing;

namespace Offhost.TwoHosts.Tests;

/// <summary>A CA, an agent certificate signed by it for the given addresses, and a token, made with openssl exactly as
/// docs/two-hosts.md tells operators to.</summary>
public sealed class Pki
{
    public Pki(Scratch s, params string[] ipAddresses)
    {
        Requires.Tool("openssl");
        Dir = s.Dir;
        CaCert = s["ca.crt"];
        AgentCert = s["agent.crt"];
        AgentKey = s["agent.key"];
        TokenFile = s["agent.token"];
        string san = string.Join(",", ipAddresses.Select(ip => "IP:" + ip).Append("DNS:localhost"));
        File.WriteAllText(s["agent.ext"], $"subjectAltName={san}\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n");
        Tool.Run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", s["ca.key"], "-out", CaCert, "-subj", "/CN=Offhost test CA", "-days", "2",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
        Tool.Run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", AgentKey, "-out", s["agent.csr"], "-subj", "/CN=offhost-agent");
        Tool.Run("openssl", "x509", "-req", "-in", s["agent.csr"], "-CA", CaCert, "-CAkey", s["ca.key"], "-CAcreateserial",
            "-out", AgentCert, "-days", "2", "-extfile", s["agent.ext"]);
        Token = Tool.Run("openssl", "rand", "-hex", "32").Trim();
        File.WriteAllText(TokenFile, Token + "\n");
    }

    public string Dir { get; }
    public string CaCert { get; }
    public string AgentCert { get; }
    public string AgentKey { get; }
    public string TokenFile { get; }
    public string Token { get; }
}
