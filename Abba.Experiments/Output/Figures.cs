using ScottPlot;

namespace Abba.Experiments.Output;

/// <summary>Saves every figure as PNG and SVG, atomically, under one base name.</summary>
public static class Figures
{
    /// <summary>Default figure size in pixels.</summary>
    public const int Width = 900, Height = 600;

    /// <summary>Saves <paramref name="plot"/> as <c>name.png</c> and <c>name.svg</c> in <paramref
    /// name="folder"/>.</summary>
    /// <returns>The two paths written.</returns>
    public static string[] Save(Plot plot, string folder, string name, int width = Width, int height = Height) =>
        Save(folder, name, p => plot.SavePng(p, width, height), p => plot.SaveSvg(p, width, height));

    /// <summary>Saves a multi-panel figure as <c>name.png</c> and <c>name.svg</c>.</summary>
    public static string[] Save(Multiplot multiplot, string folder, string name, int width, int height) =>
        Save(folder, name, p => multiplot.SavePng(p, width, height), p =>
        {
            // Multiplot has no SaveSvg: render it onto Skia's SVG canvas.
            using (var stream = File.Create(p))
            using (var canvas = SkiaSharp.SKSvgCanvas.Create(new SkiaSharp.SKRect(0, 0, width, height), stream))
                multiplot.Render(canvas, new PixelRect(0, width, height, 0));
        });

    static string[] Save(string folder, string name, Action<string> png, Action<string> svg)
    {
        string pngPath = Path.Combine(folder, name + ".png");
        string svgPath = Path.Combine(folder, name + ".svg");
        AtomicFile.Write(pngPath, png);
        AtomicFile.Write(svgPath, svg);
        return [pngPath, svgPath];
    }
}
