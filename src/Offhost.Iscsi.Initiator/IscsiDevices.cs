using Offhost.Scsi.Commands;

namespace Offhost.Iscsi.Initiator;

/// <summary>Opens iSCSI LUNs and lists what a portal offers.</summary>
public static class IscsiDevices
{
    public static Task<IscsiBlockDevice> OpenBlockAsync(IscsiUri uri, IscsiInitiatorOptions options, CancellationToken cancellationToken) =>
        IscsiBlockDevice.OpenAsync(uri, options, cancellationToken);

    public static Task<IscsiBlockDevice> OpenBlockAsync(string uri, IscsiInitiatorOptions options, CancellationToken cancellationToken) =>
        IscsiBlockDevice.OpenAsync(IscsiUri.Parse(uri), options, cancellationToken);

    public static Task<IscsiTapeDevice> OpenTapeAsync(IscsiUri uri, IscsiInitiatorOptions options, CancellationToken cancellationToken) =>
        IscsiTapeDevice.OpenAsync(uri, options, cancellationToken);

    public static Task<IscsiTapeDevice> OpenTapeAsync(string uri, IscsiInitiatorOptions options, CancellationToken cancellationToken) =>
        IscsiTapeDevice.OpenAsync(IscsiUri.Parse(uri), options, cancellationToken);

    /// <summary>SendTargets=All through a Discovery session on the URI's portal.</summary>
    public static async Task<IReadOnlyList<DiscoveredTarget>> DiscoverAsync(IscsiUri portal, IscsiInitiatorOptions options, CancellationToken cancellationToken)
    {
        var session = await IscsiSession.LoginAsync(portal.Host, portal.Port, null, portal.ResolveCredentials(), options, cancellationToken);
        await using (session)
        {
            var targets = await session.SendTargetsAsync("All", cancellationToken);
            await session.LogoutAsync(cancellationToken);
            return targets;
        }
    }

    /// <summary>The LUNs of one target: REPORT LUNS, then INQUIRY (and READ CAPACITY for disks) of each.</summary>
    public static async Task<IReadOnlyList<LunDescription>> ListLunsAsync(IscsiUri target, IscsiInitiatorOptions options, CancellationToken cancellationToken)
    {
        if (target.TargetName is null) throw new ArgumentException("the URI names no target", nameof(target));
        var session = await IscsiSession.LoginAsync(target.Host, target.Port, target.TargetName, target.ResolveCredentials(), options, cancellationToken);
        await using (session)
        {
            var list = new byte[8 + 256 * 8];
            var r = await ExecuteClearingAttentionAsync(session, new ScsiCommand { Cdb = ReportLuns.Cdb((uint)list.Length), Lun = 0, Name = "REPORT LUNS", DataIn = list }, cancellationToken);
            r.ThrowIfNotGood($"{target.TargetName}: REPORT LUNS");
            var result = new List<LunDescription>();
            foreach (ulong lun in ReportLuns.Parse(list.AsSpan(0, r.DataInBytes)))
            {
                var inquiry = new byte[96];
                var ir = await ExecuteClearingAttentionAsync(session, new ScsiCommand { Cdb = Inquiry.Cdb((ushort)inquiry.Length), Lun = lun, Name = "INQUIRY", DataIn = inquiry }, cancellationToken);
                if (!ir.IsGood) continue;
                var data = StandardInquiryData.Parse(inquiry.AsSpan(0, ir.DataInBytes));
                long? sizeBytes = null;
                if (data.DeviceType == PeripheralDeviceType.DirectAccess)
                {
                    var cap = new byte[ReadCapacity16.DataLength];
                    var cr = await ExecuteClearingAttentionAsync(session, new ScsiCommand { Cdb = ReadCapacity16.Cdb(), Lun = lun, Name = "READ CAPACITY(16)", DataIn = cap }, cancellationToken);
                    if (cr.IsGood) sizeBytes = ReadCapacity16.Parse(cap.AsSpan(0, cr.DataInBytes)).LengthBytes;
                }
                result.Add(new LunDescription(Lun.Decode(lun), data.DeviceType, data.Vendor, data.Product, sizeBytes));
            }
            await session.LogoutAsync(cancellationToken);
            return result;
        }
    }

    static async Task<ScsiResult> ExecuteClearingAttentionAsync(IscsiSession session, ScsiCommand command, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            var r = await session.ExecuteAsync(command, cancellationToken);
            if (r.Sense?.Key == Offhost.Scsi.Sense.SenseKey.UnitAttention && attempt < 8) continue;
            return r;
        }
    }
}

/// <summary>One LUN of a target as listed by <see cref="IscsiDevices.ListLunsAsync"/>; size in bytes for disks.</summary>
public sealed record LunDescription(int Lun, PeripheralDeviceType DeviceType, string Vendor, string Product, long? SizeBytes);
