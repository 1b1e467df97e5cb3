namespace Offhost.Iscsi.Login;

/// <summary>Login stages carried in CSG/NSG (RFC 7143 §11.12.3).</summary>
public enum LoginStage : byte
{
    SecurityNegotiation = 0,
    LoginOperationalNegotiation = 1,
    FullFeaturePhase = 3,
}
