//! The plotting layer end to end: every chart kind carries its data into the SVG, text is
//! escaped, degenerate data gives a readable chart, and identical figures give identical bytes.

use gmmtune::plot::{
    Axis, Bars, Component2d, Contours, Dots, Ellipses, Estimate, Figure, Grid, Heatmap, Line,
    Marker, PlotError, Ramp, Scatter,
};

fn count(svg: &str, needle: &str) -> usize {
    svg.matches(needle).count()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_text_is_escaped() {
    let evil = "<script>alert(1)</script>";
    let categories = names(&[evil, "b"]);
    let svg = Figure::new(evil)
        .subtitle(evil)
        .x_axis(Axis::new(evil).unit(evil).categories(&categories))
        .y_axis(Axis::new(evil))
        .layer(Scatter::new(evil, vec![(0.0, 1.0), (1.0, 2.0)]))
        .layer(Scatter::new("c", vec![(0.0, 1.5), (1.0, 1.0)]).categories(vec![0, 1], &categories))
        .layer(Line::new(evil, vec![(0.0, 1.0), (1.0, 2.0)]))
        .layer(Scatter::new("v", vec![(0.0, 2.0)]).shaded(vec![1.0], evil, Ramp::Viridis))
        .render_svg()
        .unwrap();
    assert!(!svg.contains("<script"), "raw markup reached the SVG");
    // Title, subtitle, x title (with unit), y title, two legend rows, a category in the
    // legend, a tick label and the colour bar title.
    assert!(
        count(&svg, "&lt;script&gt;") >= 9,
        "{}",
        count(&svg, "&lt;script&gt;")
    );
    let controls = Figure::new("a\u{1b}b\u{0}c")
        .layer(Scatter::new("x\u{7}", vec![(0.0, 0.0)]))
        .render_svg()
        .unwrap();
    assert!(!controls.chars().any(|c| (c as u32) < 0x20 && c != '\n'));
}

#[test]
fn scatter_draws_one_mark_per_point() {
    let points: Vec<(f64, f64)> = (0..17).map(|i| (i as f64, (i * i) as f64)).collect();
    let svg = Figure::new("s")
        .layer(Scatter::new("rows", points))
        .render_svg()
        .unwrap();
    assert_eq!(
        count(&svg, "<circle"),
        17 + 1,
        "17 points and the legend marker"
    );
    let points: Vec<(f64, f64)> = (0..6).map(|i| (i as f64, 1.0)).collect();
    let svg = Figure::new("s")
        .layer(
            Scatter::new("rows", points)
                .categories(vec![0, 0, 1, 1, 2, 2], &names(&["a", "b", "c"])),
        )
        .render_svg()
        .unwrap();
    // Circles for a, squares (rects) for b, triangles (polygons) for c, one of each in the legend.
    assert_eq!(count(&svg, "<circle"), 3);
    assert_eq!(count(&svg, "<polygon"), 3);
    assert!(svg.contains("\na\n") && svg.contains("\nc\n"));
}

#[test]
fn lines_steps_and_markers() {
    let points = vec![(1.0, 3.0), (2.0, 2.0), (3.0, 2.5), (4.0, 1.0)];
    let svg = Figure::new("l")
        .x_axis(Axis::new("n").integer_ticks())
        .layer(Line::new("plain", points.clone()).marker(Marker::Square))
        .layer(Line::new("step", points.clone()).step())
        .render_svg()
        .unwrap();
    let plain_only = Figure::new("l")
        .x_axis(Axis::new("n").integer_ticks())
        .layer(Line::new("plain", points.clone()).marker(Marker::Square))
        .render_svg()
        .unwrap();
    assert_eq!(
        count(&svg, "<polyline") - count(&plain_only, "<polyline"),
        2,
        "the step series and its legend swatch"
    );
    let unmarked = Figure::new("l")
        .x_axis(Axis::new("n").integer_ticks())
        .layer(Line::new("plain", points.clone()))
        .layer(Line::new("step", points))
        .render_svg()
        .unwrap();
    assert_eq!(
        count(&svg, "<rect") - count(&unmarked, "<rect"),
        4 + 1,
        "a square per point and in the legend"
    );
    for tick in ["\n1\n", "\n2\n", "\n3\n", "\n4\n"] {
        assert!(svg.contains(tick), "tick {tick:?}");
    }
}

#[test]
fn log_axes_drop_what_they_cannot_show() {
    let svg = Figure::new("log")
        .y_axis(Axis::new("v").log())
        .layer(Scatter::new(
            "p",
            vec![
                (0.0, 0.001),
                (1.0, 10.0),
                (2.0, -1.0),
                (3.0, 0.0),
                (4.0, 1000.0),
            ],
        ))
        .render_svg()
        .unwrap();
    assert_eq!(count(&svg, "<circle"), 3 + 1);
    for tick in ["0.001", "\n1\n", "1000"] {
        assert!(svg.contains(tick), "{tick}");
    }
}

#[test]
fn heatmap_and_contours_have_their_cells_and_lines() {
    let n = 30;
    let centres = Grid::cell_centres((-1.0, 1.0), (-1.0, 1.0), n, n);
    let grid = Grid::new(
        (-1.0, 1.0),
        (-1.0, 1.0),
        n,
        n,
        centres.iter().map(|(x, y)| -(x * x + y * y)).collect(),
    );
    let plain = Figure::new("h")
        .layer(Heatmap::new(grid.clone(), "value", Ramp::Viridis))
        .render_svg()
        .unwrap();
    assert!(
        count(&plain, "<rect") > n,
        "one rectangle per run of equal colour"
    );
    let svg = Figure::new("h")
        .layer(Heatmap::new(grid.clone(), "value (units)", Ramp::Viridis).bands(8))
        .layer(Contours::new(grid.clone(), vec![-0.5, -0.25]).label("levels"))
        .render_svg()
        .unwrap();
    let banded = Figure::new("h")
        .layer(Heatmap::new(grid.clone(), "value (units)", Ramp::Viridis).bands(8))
        .render_svg()
        .unwrap();
    assert_eq!(
        count(&svg, "<polyline") - count(&banded, "<polyline"),
        2 + 1,
        "two closed contours and the legend swatch"
    );
    assert!(svg.contains("value (units)"), "colour bar title");
    assert!(
        count(&svg, "<rect") < count(&plain, "<rect"),
        "bands merge cells"
    );
}

#[test]
fn ellipses_bars_and_dots() {
    let c = |style, mean| Component2d {
        mean,
        covariance: [[2.0, 0.3], [0.3, 0.5]],
        style,
    };
    let ellipses = |n: usize| {
        let svg = Figure::new("e")
            .layer(Ellipses::new((0..n).map(|s| c(s, (0.0, 0.0))).collect()).sigmas(vec![1.0]))
            .render_svg()
            .unwrap();
        count(&svg, "<polyline")
    };
    assert_eq!(ellipses(3) - ellipses(1), 2, "one outline per component");
    let cats = names(&["grid", "cfo"]);
    let svg = Figure::new("b")
        .x_axis(Axis::new("strategy").categories(&cats))
        .layer(Bars::new(
            "wins",
            vec![
                Estimate::new(0.0, 3.0, 2.0, 4.0),
                Estimate::new(1.0, 5.0, 4.5, 6.0),
            ],
        ))
        .layer(Dots::new("test", vec![Estimate::new(0.0, 2.0, 1.0, 3.0)]))
        .render_svg()
        .unwrap();
    assert!(svg.contains("\ngrid\n") && svg.contains("\ncfo\n"));
    let blue_rects = svg
        .lines()
        .filter(|l| l.starts_with("<rect") && l.contains(r##"fill="#0072B2""##))
        .count();
    assert_eq!(blue_rects, 2 + 1, "two bars and the legend patch");
    let orange_circles = svg
        .lines()
        .filter(|l| l.starts_with("<circle") && l.contains(r##"fill="#E69F00""##))
        .count();
    assert_eq!(orange_circles, 1 + 1, "one dot and its legend marker");
}

#[test]
fn degenerate_data_never_panics() {
    for points in [
        vec![(1.0, 1.0)],
        vec![(2.0, 5.0); 10],
        vec![(f64::NAN, 1.0), (f64::INFINITY, 2.0), (3.0, 3.0)],
    ] {
        let svg = Figure::new("d")
            .layer(Scatter::new("p", points))
            .render_svg()
            .unwrap();
        assert!(count(&svg, "<circle") >= 2);
    }
    let empty = Figure::new("d")
        .empty_message("nothing to see")
        .layer(Scatter::new("p", vec![(f64::NAN, f64::NAN)]))
        .layer(Line::new("l", vec![]))
        .render_svg()
        .unwrap();
    assert!(empty.contains("nothing to see"));
    assert!(Figure::new("none")
        .render_svg()
        .unwrap()
        .contains("no data to plot"));
    let flat = Grid::new((0.0, 1.0), (0.0, 1.0), 3, 3, vec![2.0; 9]);
    let svg = Figure::new("flat")
        .layer(Heatmap::new(flat.clone(), "v", Ramp::Cividis))
        .layer(Contours::new(flat, vec![2.0]))
        .render_svg()
        .unwrap();
    assert!(svg.contains("<rect"));
    let bad = Figure::new("bad").layer(Heatmap::new(
        Grid::new((0.0, 1.0), (0.0, 1.0), 3, 3, vec![1.0]),
        "v",
        Ramp::Viridis,
    ));
    assert!(matches!(
        bad.render_svg(),
        Err(PlotError::InvalidLayer { .. })
    ));
    let bad = Figure::new("bad").layer(Ellipses::new(vec![Component2d {
        mean: (0.0, 0.0),
        covariance: [[1.0, 3.0], [3.0, 1.0]],
        style: 0,
    }]));
    assert!(bad
        .render_svg()
        .unwrap_err()
        .to_string()
        .contains("positive semi-definite"));
}

#[test]
fn identical_figures_give_identical_bytes() {
    let make = || {
        Figure::new("same")
            .layer(Scatter::new("p", vec![(0.1, 0.2), (0.3, 0.7)]).shaded(
                vec![0.5, 0.25],
                "v",
                Ramp::Viridis,
            ))
            .layer(Line::new("l", vec![(0.0, 0.0), (1.0, 1.0)]))
            .render_svg()
            .unwrap()
    };
    assert_eq!(make(), make());
}

#[test]
fn saving_names_the_file_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let figure = Figure::new("f").layer(Scatter::new("p", vec![(0.0, 0.0)]));
    let path = dir.path().join("f.svg");
    figure.save_svg(&path).unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().starts_with("<svg"));
    let bad = dir.path().join("missing").join("f.svg");
    let error = figure.save_svg(&bad).unwrap_err();
    assert!(error.to_string().contains("missing"), "{error}");
}
