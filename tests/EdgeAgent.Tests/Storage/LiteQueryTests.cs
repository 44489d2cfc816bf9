using System.Collections;
using System.Reflection;
using EdgeMeter.Agent.Storage;
using LiteDB;
using LiteDB.Engine;

namespace EdgeMeter.Agent.Tests.Storage;

/// <summary>
/// LiteDB 5.0.20 compiles each query expression once per distinct source text and keeps the compiled delegate in a
/// process-wide dictionary it never trims (litedb-org/LiteDB#2807). Its <c>Query.GT("_id", 42)</c> writes the value
/// into the text, so a query per poll with a new value leaks: the demo grew by ~100 MB an hour, 4.6 KB per query.
/// </summary>
[Collection(LiteDbExpressionCache.Name)]
public sealed class LiteQueryTests
{
    [Fact]
    public void Queries_with_a_thousand_distinct_values_compile_nothing_new_after_the_first()
    {
        using var db = Database(out var docs);
        RunQueries(docs, 0, 10);
        var before = LiteDbExpressionCache.Count;
        RunQueries(docs, 10, 1000);
        Assert.Equal(before, LiteDbExpressionCache.Count);
    }

    [Fact]
    public void The_same_queries_through_LiteDB_s_Query_helpers_compile_one_expression_per_value()
    {
        // The counterfactual: what the helpers above avoid, so the test above is known to measure the leak.
        using var db = Database(out var docs);
        var before = LiteDbExpressionCache.Count;
        for (long v = 5_000_000; v < 5_000_100; v++)
            Assert.Equal(1000, docs.Count(Query.LT("_id", v)));
        Assert.InRange(LiteDbExpressionCache.Count - before, 100, 400);
    }

    [Fact]
    public void The_helpers_select_what_LiteDB_s_own_select()
    {
        using var db = Database(out var docs);
        foreach (var v in new long[] { -1, 0, 1, 499, 500, 998, 999, 1000 })
        {
            Assert.Equal(Ids(docs.Find(Query.GT("_id", v))), Ids(docs.Find(LiteQuery.Greater("_id", v))));
            Assert.Equal(Ids(docs.Find(Query.GTE("_id", v))), Ids(docs.Find(LiteQuery.AtLeast("_id", v))));
            Assert.Equal(Ids(docs.Find(Query.LTE("_id", v))), Ids(docs.Find(LiteQuery.AtMost("_id", v))));
            Assert.Equal(Ids(docs.Find(Query.Between("_id", v, v + 7))), Ids(docs.Find(LiteQuery.Between("_id", v, v + 7))));
            Assert.Equal(Ids(docs.Find(Query.EQ("g", v % 10))), Ids(docs.Find(LiteQuery.Equal("g", v % 10))));
        }
        Assert.Equal([500, 501, 502], Ids(docs.Find(LiteQuery.Between("_id", 500L, 502L))));
    }

    [Fact]
    public void The_helpers_use_the_index_LiteDB_s_own_use()
    {
        using var db = Database(out var docs);
        (BsonExpression Ours, BsonExpression Theirs)[] pairs =
        [
            (LiteQuery.Greater("_id", 5L), Query.GT("_id", 5L)),
            (LiteQuery.AtLeast("_id", 5L), Query.GTE("_id", 5L)),
            (LiteQuery.AtMost("_id", 5L), Query.LTE("_id", 5L)),
            (LiteQuery.Between("_id", 5L, 9L), Query.Between("_id", 5L, 9L)),
            (LiteQuery.Equal("g", 5L), Query.EQ("g", 5L)),
        ];
        foreach (var (ours, theirs) in pairs)
        {
            var plan = docs.Query().Where(ours).GetPlan()["index"].AsDocument;
            Assert.Equal(docs.Query().Where(theirs).GetPlan()["index"].AsDocument, plan);
            Assert.Contains(plan["mode"].AsString.Split('(')[0], new[] { "INDEX SCAN", "INDEX RANGE SCAN", "INDEX SEEK" });
        }
        Assert.Equal([998, 999], Ids(docs.Find(LiteQuery.Greater("_id", 997L))));
    }

    private static void RunQueries(ILiteCollection<BsonDocument> docs, long from, long to)
    {
        for (var v = from; v < to; v++)
        {
            Assert.Equal(999 - v, docs.Count(LiteQuery.Greater("_id", v)));
            Assert.Equal(1000 - v, docs.Count(LiteQuery.AtLeast("_id", v)));
            Assert.Equal(v + 1, docs.Query().Where(LiteQuery.AtMost("_id", v)).OrderByDescending("_id").Limit(1).First()["_id"].AsInt64 + 1);
            Assert.Equal(Math.Min(v + 2, 999) - v + 1, docs.Count(LiteQuery.Between("_id", v, v + 2)));
            Assert.Equal(100, docs.Count(LiteQuery.Equal("g", v % 10)));
            Assert.Equal(v, docs.FindById(v)["_id"].AsInt64);
        }
    }

    private static List<long> Ids(IEnumerable<BsonDocument> docs) => [.. docs.Select(d => d["_id"].AsInt64).Order()];

    private static LiteDatabase Database(out ILiteCollection<BsonDocument> docs)
    {
        var db = new LiteDatabase(new LiteEngine(new EngineSettings { DataStream = new MemoryStream(), LogStream = new MemoryStream() }));
        docs = db.GetCollection("docs");
        for (long id = 0; id < 1000; id++)
            docs.Insert(new BsonDocument { ["_id"] = id, ["g"] = id % 10 });
        docs.EnsureIndex("g");
        return db;
    }
}

/// <summary>Reads LiteDB's process-wide compiled-expression caches (reflection, in the test only).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiteDbExpressionCache
{
    public const string Name = "LiteDB expression cache";

    public static int Count =>
        Cache("_cacheScalar") + Cache("_cacheEnumerable");

    private static int Cache(string field) =>
        ((ICollection)typeof(BsonExpression).GetField(field, BindingFlags.Static | BindingFlags.NonPublic)!.GetValue(null)!).Count;
}
