using System.Reflection;
using EdgeMeter.Agent.Storage;
using LiteDB;
using LiteDB.Engine;

namespace EdgeMeter.Agent.Tests.Storage;

public sealed class LiteDbCacheTests
{
    [Fact]
    public void Every_database_of_the_process_gets_the_bounded_segment_sizes()
    {
        Assert.Equal([12, 50, 100], LiteDbCache.Current);
    }

    [Fact]
    public void A_database_that_reads_and_writes_thousands_of_pages_keeps_its_cache_under_the_500_page_segment()
    {
        Assert.Equal(LiteDbCache.Bounded, LiteDbCache.Current);
        var pages = CachePagesAfterWorkload();

        // 12 + 50 + 100 and then 100 at a time while pages are in use (262 on a quiet machine; more when LiteDB's
        // writer thread lags and holds queued pages); LiteDB's own sizes reach 1,662 here.
        Assert.Equal(0, (pages - 162) % 100);
        Assert.InRange(pages, 162, 1562);
    }

    [Fact]
    public void The_same_workload_with_LiteDB_s_own_segment_sizes_grows_to_1662_pages()
    {
        // The counterfactual, so the bound above is known to be what keeps the cache small.
        // Tests of one class run one at a time; a database another class opens meanwhile only caches differently.
        LiteDbCache.Set(LiteDbCache.LiteDbDefault);
        try
        {
            Assert.Equal(12 + 50 + 100 + 500 + 1000, CachePagesAfterWorkload());
        }
        finally
        {
            LiteDbCache.Set(LiteDbCache.Bounded);
        }
    }

    /// <summary>
    /// 3,000 documents of 3 KB in 300 commits (about 1,200 data pages and as many log pages before LiteDB's own
    /// checkpoint), then every document read back twice, one query each: the agent's store, condensed. (One query that reads more
    /// than 1,000 pages holds them all in use until it ends, bounded sizes or not: LiteDB's snapshot keeps each page it read.)
    /// Returns the pages LiteDB's cache holds afterwards.
    /// </summary>
    private static int CachePagesAfterWorkload()
    {
        using var data = new MemoryStream();
        using var log = new MemoryStream();
        using var engine = new LiteEngine(new EngineSettings { DataStream = data, LogStream = log });
        int pages;
        using (var db = new LiteDatabase(engine))
        {
            var docs = db.GetCollection("docs");
            var payload = new byte[3000];
            for (var commit = 0; commit < 300; commit++)
            {
                db.BeginTrans();
                for (var i = 0; i < 10; i++)
                {
                    payload[0] = (byte)i;
                    docs.Insert(new BsonDocument { ["_id"] = (commit * 10) + i, ["p"] = payload });
                }
                db.Commit();
            }
            for (var pass = 0; pass < 2; pass++)
            {
                for (var id = 0; id < 3000; id++)
                    Assert.Equal((byte)(id % 10), docs.FindById(id)["p"].AsBinary[0]);
            }
            pages = CachePages(engine);
        }
        return pages;
    }

    /// <summary>LiteDB keeps the count internal: reflection, in the test only.</summary>
    private static int CachePages(LiteEngine engine)
    {
        const BindingFlags Any = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        var disk = typeof(LiteEngine).GetField("_disk", Any)!.GetValue(engine)!;
        var cache = disk.GetType().GetProperty("Cache", Any)!.GetValue(disk)!;
        return (int)cache.GetType().GetProperty("ExtendPages", Any)!.GetValue(cache)!;
    }
}
