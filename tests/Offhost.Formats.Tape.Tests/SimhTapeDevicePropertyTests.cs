using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Offhost.Core.Devices;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Label;
using Offhost.Io.Tape;
using Offhost.Testing;
using TestData = Offhost.Testing.TestData;

namespace Offhost.Formats.Tape.Tests;

public sealed class SimhTapeDevicePropertyTests : IDisposable
{
    readonly Scratch scratch = new("simh-prop");

    public void Dispose() => scratch.Dispose();

    /// <summary>Tape files of records (lengths only; contents from the seed).</summary>
    static Arbitrary<int[][]> Files() =>
        Gen.Choose(1, 3000).ArrayOf().ArrayOf().Where(f => f.Length > 0).ToArbitrary();

    [Property(MaxTest = 60)]
    public Property Every_record_reads_back_sequentially_and_by_locate(int seed) =>
        Prop.ForAll(Files(), files =>
        {
            var ct = TestContext.Current.CancellationToken;
            string path = scratch[$"p{Guid.NewGuid():N}.tap"];
            var label = new VolumeLabel("P1", 64 << 20, 1 << 20, new MapTime(0, 0), Guid.NewGuid());
            byte[] Data(int f, int r, int len) => TestData.Random(seed ^ (f * 7919) ^ (r * 104729), len);
            using (var d = SimhTapeDevice.Create(path, label))
            {
                for (int f = 0; f < files.Length; f++)
                {
                    for (int r = 0; r < files[f].Length; r++) d.WriteRecordAsync(Data(f, r, files[f][r]), ct).AsTask().Wait(ct);
                    d.WriteFilemarksAsync(1, ct).AsTask().Wait(ct);
                }
            }
            using var ro = SimhTapeDevice.Open(path, writable: false);
            var buffer = new byte[4096];
            ro.LocateAsync(new TapePosition(1, 0), ct).AsTask().Wait(ct);
            for (int f = 0; f < files.Length; f++)
            {
                for (int r = 0; r < files[f].Length; r++)
                {
                    var res = ro.ReadRecordAsync(buffer, ct).AsTask().Result;
                    if (res.Kind != TapeReadKind.Record || !buffer.AsSpan(0, res.LengthBytes).SequenceEqual(Data(f, r, files[f][r]))) return false;
                }
                if (ro.ReadRecordAsync(buffer, ct).AsTask().Result.Kind != TapeReadKind.Filemark) return false;
            }
            if (ro.ReadRecordAsync(buffer, ct).AsTask().Result.Kind != TapeReadKind.EndOfData) return false;
            // Random access, backwards and forwards.
            var rng = new Random(seed);
            for (int i = 0; i < 20; i++)
            {
                int f = rng.Next(files.Length);
                if (files[f].Length == 0) continue;
                int r = rng.Next(files[f].Length);
                ro.LocateAsync(new TapePosition(f + 1, r), ct).AsTask().Wait(ct);
                var res = ro.ReadRecordAsync(buffer, ct).AsTask().Result;
                if (!buffer.AsSpan(0, res.LengthBytes).SequenceEqual(Data(f, r, files[f][r]))) return false;
                if (r > 0)
                {
                    ro.SpaceAsync(SpaceUnit.Records, -2, ct).AsTask().Wait(ct);
                    if (ro.Position != new TapePosition(f + 1, r - 1)) return false;
                }
            }
            return true;
        });
}

public sealed class SimhTapeDeviceHostileTests : IDisposable
{
    readonly Scratch scratch = new("simh-hostile");

    public void Dispose() => scratch.Dispose();

    /// <summary>Images that start with valid objects and then turn into noise, and pure noise.</summary>
    static Arbitrary<byte[]> Images() =>
        (from prefix in Gen.Choose(1, 40).ArrayOf()
         from noise in ArbMap.Default.GeneratorFor<byte[]>()
         from marks in Gen.Elements<uint>(0, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFEFFFF, 0x80000003).ArrayOf()
         select SimhCodecTests.Image(prefix.Select(n => n % 5 == 0 ? null : (byte[]?)new byte[n]))
             .Concat(marks.SelectMany(BitConverter.GetBytes)).Concat(noise).ToArray()).ToArbitrary();

    [Property(MaxTest = 400)]
    public Property Any_image_reads_spaces_and_scans_without_crash_or_hang() =>
        Prop.ForAll(Images(), image =>
        {
            var ct = TestContext.Current.CancellationToken;
            string path = scratch[$"h{Guid.NewGuid():N}.tap"];
            File.WriteAllBytes(path, image);
            using var d = SimhTapeDevice.Open(path, writable: false);
            var buffer = new byte[64];
            void Guard(Action a)
            {
                try { a(); }
                catch (Core.Errors.CorruptStructureException e) { Assert.InRange(e.DeviceOffset, 0, image.Length); }
                catch (TapeMediumException) { }
            }
            Guard(() => d.ScanAsync(ct).AsTask().GetAwaiter().GetResult());
            Guard(() =>
            {
                d.RewindAsync(ct).AsTask().GetAwaiter().GetResult();
                for (int i = 0; i < 10_000; i++)
                {
                    try
                    {
                        if (d.ReadRecordAsync(buffer, ct).AsTask().GetAwaiter().GetResult().Kind == TapeReadKind.EndOfData) break;
                    }
                    catch (TapeMediumException) { }
                }
            });
            Guard(() =>
            {
                d.RewindAsync(ct).AsTask().GetAwaiter().GetResult();
                d.SpaceAsync(SpaceUnit.EndOfData, 0, ct).AsTask().GetAwaiter().GetResult();
                d.SpaceAsync(SpaceUnit.Records, -1000, ct).AsTask().GetAwaiter().GetResult();
                d.SpaceAsync(SpaceUnit.Filemarks, -1000, ct).AsTask().GetAwaiter().GetResult();
                d.SpaceAsync(SpaceUnit.Filemarks, 1000, ct).AsTask().GetAwaiter().GetResult();
            });
            return true;
        });
}
