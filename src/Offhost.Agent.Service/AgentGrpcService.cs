using Google.Protobuf;
using Grpc.Core;
using Offhost.Agent.Configuration;
using Offhost.Agent.FrozenImages;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Io.Block;
using Offhost.Mapping;
using Offhost.Rpc;
using Offhost.Rpc.V1;

namespace Offhost.Agent.Service;

/// <summary>The agent's gRPC calls (src/Offhost.Rpc/protos/agent.proto). Only metadata leaves the host: volume records,
/// map entries, allocated ranges and configuration IDs.</summary>
internal sealed class AgentGrpcService(AgentOptions options, ImageRegistry registry, FrozenImageService images) : Rpc.V1.Agent.AgentBase
{
    void Log(string line) => options.Log?.Invoke(line);

    public override async Task<FrozenImageReply> CreateFrozenImage(CreateFrozenImageRequest request, ServerCallContext context)
    {
        string target = request.Target;
        if (target.Length == 0 || target[0] != '/')
            throw new RpcException(new Status(StatusCode.InvalidArgument, "target must be an absolute path on the agent host"));
        target = Path.GetFullPath(target);
        // Judge --allow on what the path really is, so a symbolic link cannot lead outside the allowed sources.
        string real = RealPath(target);
        if (options.AllowedTargets.Count > 0 && !options.AllowedTargets.Select(RealPath).Any(a => real == a || real.StartsWith(a.TrimEnd('/') + "/", StringComparison.Ordinal)))
        {
            Log($"refused an image of {target}: not among the allowed targets");
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{target} is not among the agent's allowed targets"));
        }
        var provider = request.Provider switch
        {
            "" or "auto" => SnapshotProvider.Auto,
            "reflink" => SnapshotProvider.Reflink,
            "freeze" => SnapshotProvider.Freeze,
            "none" => SnapshotProvider.None,
            _ => throw new RpcException(new Status(StatusCode.InvalidArgument, $"unknown provider '{request.Provider}' (auto, reflink, freeze, none)")),
        };
        var maxFreeze = request.MaxFreezeSeconds == 0 ? options.MaxFreeze
            : TimeSpan.FromSeconds(Math.Min(request.MaxFreezeSeconds, options.MaxFreeze.TotalSeconds));
        var frozenOptions = new FrozenImageOptions
        {
            Provider = provider,
            MaxFreeze = maxFreeze,
            Quiesce = request.SkipQuiesce ? QuiesceOptions.Disabled : options.Quiesce,
        };

        FrozenImage image = await Guard(() => images.CreateAsync(target, frozenOptions, context.CancellationToken)).ConfigureAwait(false);
        try
        {
            var names = DeviceNames.Of(image.SnapshotPath);
            var volumes = new List<(VolumeInfo, long)>();
            ConfigurationState state;
            using (var source = Guard(() => new FileBlockSource(image.SnapshotPath)))
                volumes.AddRange(Guard(() => VolumeOpener.Open(source)).Select(m => (m.Volume, source.LengthBytes)));
            var held = new HeldImage(image, volumes, names);
            state = await Guard(() => ImageScan.ComputeAsync(image, context.CancellationToken)).ConfigureAwait(false);
            held.Record(state);
            registry.Add(held, maxFreeze);
            var reply = new FrozenImageReply
            {
                ImageId = image.Id,
                Target = target,
                SnapshotPath = image.SnapshotPath,
                Provider = image.Provider.ToString().ToLowerInvariant(),
                CreatedUnixMs = image.CreatedAt.ToUnixTimeMilliseconds(),
                ConfigurationId = state.Id,
            };
            reply.FrozenMountPoints.AddRange(image.FrozenMountPoints);
            for (int i = 0; i < volumes.Count; i++) reply.Volumes.Add(VolumeMessage(held, i));
            Log($"frozen image {image.Id} of {target}: provider {reply.Provider}, {volumes.Count} volume(s), frozen: {(image.FrozenMountPoints.Count == 0 ? "nothing" : string.Join(", ", image.FrozenMountPoints))}");
            return reply;
        }
        catch
        {
            await image.ReleaseAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The path with every symbolic link along it resolved (as far as it exists).</summary>
    static string RealPath(string path)
    {
        string full = Path.GetFullPath(path);
        string? parent = Path.GetDirectoryName(full);
        string resolvedParent = parent is null || parent == full ? full : RealPath(parent);
        string joined = parent is null || parent == full ? full : Path.Combine(resolvedParent, Path.GetFileName(full));
        try
        {
            var info = new FileInfo(joined);
            var target = info.Exists || Directory.Exists(joined) ? info.ResolveLinkTarget(returnFinalTarget: true) : null;
            return target is null ? joined : RealPath(target.FullName);
        }
        catch (IOException) { return joined; }
    }

    static Rpc.V1.Volume VolumeMessage(HeldImage held, int index) => VolumeMessage(held, index, held.Volumes[index].Volume, held.Volumes[index].DeviceSizeBytes);

    static Rpc.V1.Volume VolumeMessage(HeldImage held, int index, VolumeInfo v, long deviceSize)
    {
        var identity = new DeviceIdentity
        {
            FileSystem = v.FileSystem,
            FileSystemId = v.Serial ?? "",
            PartitionOffsetBytes = v.PartitionOffsetBytes,
            FileSystemSizeBytes = v.SizeBytes,
            DeviceSizeBytes = deviceSize,
            Wwn = held.Names.Wwn,
            AgentPath = held.Names.AgentPath,
        };
        identity.ById.AddRange(held.Names.ById);
        return MapMessages.ToMessage(v, index + 1, identity);
    }

    public override async Task StreamStorageMap(ImageRef request, IServerStreamWriter<MapChunk> responseStream, ServerCallContext context)
    {
        var held = Held(request.ImageId);
        await StreamAsync(held, since: null, responseStream, context.CancellationToken).ConfigureAwait(false);
    }

    public override async Task Remap(RemapRequest request, IServerStreamWriter<MapChunk> responseStream, ServerCallContext context)
    {
        var held = Held(request.ImageId);
        var since = held.Find(request.Since)
            ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, $"configuration ID {request.Since} is not one the agent reported for image {request.ImageId}"));
        await StreamAsync(held, since, responseStream, context.CancellationToken).ConfigureAwait(false);
    }

    public override async Task<ConfigurationIdReply> GetConfigurationId(ImageRef request, ServerCallContext context)
    {
        var held = Held(request.ImageId);
        await held.ScanLock.WaitAsync(context.CancellationToken).ConfigureAwait(false);
        try
        {
            var state = await Guard(() => ImageScan.ComputeAsync(held.Image, context.CancellationToken)).ConfigureAwait(false);
            held.Record(state);
            return new ConfigurationIdReply { ConfigurationId = state.Id, Held = SnapshotState.IsHeld(held.Image) };
        }
        finally { held.ScanLock.Release(); }
    }

    public override async Task<ReleaseReply> ReleaseFrozenImage(ImageRef request, ServerCallContext context)
    {
        bool released = await registry.ReleaseAsync(request.ImageId).ConfigureAwait(false);
        if (released) Log($"frozen image {request.ImageId} released");
        return new ReleaseReply { Released = released };
    }

    public override async Task Watch(ImageRef request, IServerStreamWriter<WatchEvent> responseStream, ServerCallContext context)
    {
        var held = Held(request.ImageId);
        await responseStream.WriteAsync(new WatchEvent { State = "held" }, context.CancellationToken).ConfigureAwait(false);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, held.Image.Expired, held.Released);
        try { await Task.Delay(Timeout.Infinite, either.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        if (context.CancellationToken.IsCancellationRequested) return;
        await responseStream.WriteAsync(new WatchEvent { State = held.Released.IsCancellationRequested ? "released" : "expired" }, context.CancellationToken).ConfigureAwait(false);
    }

    HeldImage Held(string id) =>
        registry.Find(id) ?? throw new RpcException(new Status(StatusCode.NotFound, $"no frozen image {id} on this agent (released or expired)"));

    /// <summary>One scan of the image, streamed: all entries for a map, or those that differ from <paramref name="since"/>
    /// for a remap. Chunks stay near <see cref="MapMessages.ChunkTargetBytes"/>.</summary>
    async Task StreamAsync(HeldImage held, ConfigurationState? since, IServerStreamWriter<MapChunk> output, CancellationToken ct)
    {
        await held.ScanLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var scan = new ImageScan(held.Image);
            await Guard(() => scan.FlushLiveMountsAsync(ct)).ConfigureAwait(false);
            var chunk = new MapChunk();
            int chunkBytes = 0;
            using var items = Guard(() => scan.Items(ct).GetEnumerator());
            while (Guard(items.MoveNext))
            {
                switch (items.Current)
                {
                    case VolumeStart vs:
                        if (since is not null && (vs.Volume > since.VolumeDigests.Count || held.Volumes.Count < vs.Volume))
                            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"volume {vs.Volume} appeared since {since.Id}: take a new frozen image"));
                        // The record as this pass read it, so the map and the ID in its last chunk describe one state.
                        chunk = new MapChunk { Volume = vs.Volume, VolumeRecord = VolumeMessage(held, vs.Volume - 1, vs.Mapper.Volume, vs.DeviceSizeBytes) };
                        chunkBytes = 0;
                        break;
                    case EntryItem e:
                        if (since is not null && !since.Differs(e.Volume, e.Entry, e.Fingerprint)) break;
                        var m = MapMessages.ToMessage(e.Entry);
                        chunk.Entries.Add(m);
                        chunkBytes += m.CalculateSize();
                        if (chunkBytes >= MapMessages.ChunkTargetBytes)
                        {
                            await output.WriteAsync(chunk, ct).ConfigureAwait(false);
                            chunk = new MapChunk { Volume = e.Volume };
                            chunkBytes = 0;
                        }
                        break;
                    case VolumeEnd ve:
                        if (since is null && ve.Mapper is IAllocationMap allocation)
                        {
                            List<(long StartBytes, long LengthBytes)>? ranges = null;
                            try { ranges = allocation.AllocatedRanges(ct).ToList(); }
                            catch (CorruptStructureException) { }
                            if (ranges is not null)
                            {
                                const int RangesPerChunk = 32 * 1024;
                                for (int i = 0; i < ranges.Count || i == 0; i += RangesPerChunk)
                                {
                                    foreach (var (start, length) in ranges.Skip(i).Take(RangesPerChunk))
                                        chunk.Allocated.Add(new AllocatedRange { StartBytes = start, LengthBytes = length });
                                    chunk.HasAllocation = true;
                                    if (i + RangesPerChunk < ranges.Count)
                                    {
                                        await output.WriteAsync(chunk, ct).ConfigureAwait(false);
                                        chunk = new MapChunk { Volume = ve.Volume };
                                    }
                                }
                            }
                        }
                        chunk.VolumeEnd = true;
                        await output.WriteAsync(chunk, ct).ConfigureAwait(false);
                        chunk = new MapChunk();
                        chunkBytes = 0;
                        break;
                }
            }
            var state = scan.State;
            if (since is not null && !since.VolumeDigests.SequenceEqual(state.VolumeDigests))
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"the volumes of image {held.Image.Id} changed their layout since {since.Id}: take a new frozen image"));
            var end = new MapChunk { EndOfMap = true, ConfigurationId = state.Id };
            if (since is not null)
            {
                end.RemovedPaths.AddRange(since.RemovedIn(state));
            }
            held.Record(state);
            await output.WriteAsync(end, ct).ConfigureAwait(false);
        }
        finally { held.ScanLock.Release(); }
    }

    /// <summary>Turns the agent's failures into gRPC statuses whose message says what went wrong, never a stack trace.</summary>
    static T Guard<T>(Func<T> body)
    {
        try { return body(); }
        catch (Exception e) when (Status(e) is { } status) { throw new RpcException(status); }
    }

    static async Task<T> Guard<T>(Func<Task<T>> body)
    {
        try { return await body().ConfigureAwait(false); }
        catch (Exception e) when (Status(e) is { } status) { throw new RpcException(status); }
    }

    static async Task Guard(Func<Task> body)
    {
        try { await body().ConfigureAwait(false); }
        catch (Exception e) when (Status(e) is { } status) { throw new RpcException(status); }
    }

    static Status? Status(Exception e) => e switch
    {
        RpcException => null,
        OperationCanceledException => null,
        QuiesceTimeoutException => new Status(StatusCode.DeadlineExceeded, e.Message),
        CorruptStructureException => new Status(StatusCode.DataLoss, e.Message),
        UserFacingException => new Status(StatusCode.FailedPrecondition, e.Message),
        IOException or UnauthorizedAccessException or InvalidOperationException => new Status(StatusCode.Unavailable, e.Message),
        _ => null,
    };
}
