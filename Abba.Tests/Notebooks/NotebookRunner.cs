using System.Text.Json;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace Abba.Tests.Notebooks;

/// <summary>What a notebook cell can call besides C#: Polyglot's <c>display</c>.</summary>
public sealed class NotebookGlobals
{
    /// <summary>Everything passed to <see cref="display"/>, in order.</summary>
    public List<object?> Displayed { get; } = [];

    /// <summary>Polyglot Notebooks' display function.</summary>
    public object? display(object? value)
    {
        Displayed.Add(value);
        return value;
    }
}

/// <summary>
/// Runs the C# code cells of a Polyglot (.NET Interactive) notebook in order, as one script session, against the
/// assemblies this test project references. <c>#r</c> and <c>#!</c> directive lines are dropped: the references
/// they name are the built Abba assemblies, which the session already has.
/// </summary>
public static class NotebookRunner
{
    static readonly string[] Imports =
        ["System", "System.IO", "System.Linq", "System.Collections.Generic", "System.Globalization"];

    /// <summary>The code cells of <paramref name="path"/> with directive lines removed.</summary>
    public static IReadOnlyList<string> CodeCells(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var cells = new List<string>();
        foreach (var cell in doc.RootElement.GetProperty("cells").EnumerateArray())
        {
            if (cell.GetProperty("cell_type").GetString() != "code") continue;
            var source = cell.GetProperty("source");
            string text = source.ValueKind == JsonValueKind.Array
                ? string.Concat(source.EnumerateArray().Select(s => s.GetString()))
                : source.GetString() ?? "";
            var lines = text.Split('\n').Where(l => !l.TrimStart().StartsWith("#r ", StringComparison.Ordinal) && !l.TrimStart().StartsWith("#!", StringComparison.Ordinal));
            cells.Add(string.Join('\n', lines));
        }
        return cells;
    }

    /// <summary>Runs every code cell; throws with the cell number when one fails to compile or run.</summary>
    public static NotebookGlobals Run(string path)
    {
        var options = ScriptOptions.Default
            .WithReferences(typeof(Abba.Core.Adapters.AbbaLinear).Assembly, typeof(Abba.Experiments.Cli.AbbaCli).Assembly,
                            typeof(TorchSharp.torch).Assembly, typeof(ScottPlot.Plot).Assembly, typeof(CsvHelper.CsvReader).Assembly,
                            typeof(MathNet.Numerics.LinearAlgebra.Matrix<double>).Assembly)
            .WithImports(Imports);
        var globals = new NotebookGlobals();
        ScriptState<object>? state = null;
        int index = 0;
        foreach (string cell in CodeCells(path))
        {
            index++;
            try
            {
                state = state is null
                    ? CSharpScript.RunAsync(cell, options, globals, typeof(NotebookGlobals)).GetAwaiter().GetResult()
                    : state.ContinueWithAsync(cell, options).GetAwaiter().GetResult();
            }
            catch (CompilationErrorException e)
            {
                throw new InvalidOperationException($"{Path.GetFileName(path)} cell {index} does not compile: {string.Join("; ", e.Diagnostics)}", e);
            }
            catch (Exception e) when (e is not InvalidOperationException)
            {
                throw new InvalidOperationException($"{Path.GetFileName(path)} cell {index} failed: {e.GetType().Name}: {e.Message}", e);
            }
        }
        return globals;
    }
}
