using Offhost.Core.Devices;
using Offhost.Scsi.ExtendedCopy;

namespace Offhost.DataMover;

/// <summary>A device a CSCD descriptor resolved to: exactly one of <see cref="Block"/> and <see cref="Stream"/> is set.</summary>
public sealed record RegisteredDevice(byte[] NaaDesignator, IBlockDevice? Block, IStreamDevice? Stream)
{
    public string DeviceId => Block?.DeviceId ?? Stream!.DeviceId;
}

/// <summary>
/// The devices a copy manager may reach, each under its NAA designator (the bytes an identification CSCD descriptor carries),
/// and for whom. Resolution only sees devices registered for the requesting application client: a parameter list can never
/// name a device that was not handed to this requester (the lesson of CVE-2020-28374, where any initiator could reach any
/// LU by its NAA). Block devices used only as copy sources should be registered opened read-only. Thread-safe.
/// </summary>
public sealed class DeviceRegistry
{
    readonly Lock gate = new();
    readonly Dictionary<string, List<RegisteredDevice>> byRequester = new(StringComparer.Ordinal);

    /// <summary>Makes <paramref name="device"/> reachable by <paramref name="requester"/> under <paramref name="naaDesignator"/> (8 or 16 bytes).</summary>
    public void Register(string requester, ReadOnlySpan<byte> naaDesignator, IBlockDevice device) =>
        Add(requester, new RegisteredDevice(CheckNaa(naaDesignator), device, null));

    /// <summary>Makes the stream device reachable by <paramref name="requester"/> under <paramref name="naaDesignator"/>.</summary>
    public void Register(string requester, ReadOnlySpan<byte> naaDesignator, IStreamDevice device) =>
        Add(requester, new RegisteredDevice(CheckNaa(naaDesignator), null, device));

    /// <summary>Removes every registration of <paramref name="requester"/> (e.g. when its session ends).</summary>
    public void Forget(string requester)
    {
        lock (gate) byRequester.Remove(requester);
    }

    static byte[] CheckNaa(ReadOnlySpan<byte> naa)
    {
        if (naa.Length is not (8 or 16) || (naa[0] >> 4) is not (2 or 3 or 5 or 6))
            throw new ArgumentException("an NAA designator is 8 bytes (NAA 2, 3, 5) or 16 bytes (NAA 6)", nameof(naa));
        return naa.ToArray();
    }

    void Add(string requester, RegisteredDevice d)
    {
        lock (gate)
        {
            if (!byRequester.TryGetValue(requester, out var list)) byRequester[requester] = list = [];
            if (list.Any(x => x.NaaDesignator.AsSpan().SequenceEqual(d.NaaDesignator)))
                throw new InvalidOperationException($"designator {Convert.ToHexString(d.NaaDesignator)} is already registered for {requester}");
            list.Add(d);
        }
    }

    /// <summary>The device registered for <paramref name="requester"/> whose designator the descriptor names (binary code set,
    /// NAA designator type, logical-unit association, same bytes), or null.</summary>
    public RegisteredDevice? Resolve(string requester, IdentificationCscdDescriptor descriptor)
    {
        if (descriptor.CodeSet != IdentificationCscdDescriptor.CodeSetBinary
            || descriptor.DesignatorType != IdentificationCscdDescriptor.DesignatorTypeNaa || descriptor.Association != 0)
            return null;
        lock (gate)
        {
            return byRequester.TryGetValue(requester, out var list)
                ? list.FirstOrDefault(x => x.NaaDesignator.AsSpan().SequenceEqual(descriptor.Designator))
                : null;
        }
    }
}
