//! Every dice operator on known faces, rendering, seeds, advantage and natural rolls.

use super::*;

fn total(src: &str, faces: &[i64]) -> i64 {
    scripted(src, 6, faces).total
}

fn flags(r: &Roll) -> Vec<(i64, bool)> {
    fn walk(n: &Node, out: &mut Vec<(i64, bool)>) {
        match &n.kind {
            NodeKind::Dice { dice, .. } => out.extend(dice.iter().map(|d| (d.face(), d.kept()))),
            NodeKind::Chain { links } => links.iter().for_each(|l| walk(&l.node, out)),
            NodeKind::Parens { inner } => walk(inner, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&r.tree, &mut out);
    out
}

#[test]
fn keep_and_drop() {
    let f = [6, 5, 1, 3];
    assert_eq!(total("4d6kh3", &f), 14);
    assert_eq!(total("4d6kl1", &f), 1);
    assert_eq!(total("4d6kl", &f), 1);
    assert_eq!(total("4d6k3", &f), 14, "k3 keeps the highest three");
    assert_eq!(total("4d6k", &f), 6);
    assert_eq!(total("4d6dh1", &f), 9);
    assert_eq!(total("4d6dl1", &f), 14);
    assert_eq!(total("4d6d", &f), 14);
    assert_eq!(total("4d6d2", &f), 11);
    assert_eq!(total("4d6kh9", &f), 15);
    assert_eq!(total("4d6kh0", &f), 0);
    assert_eq!(
        total("4d6kh3kl2", &f),
        8,
        "operators apply in written order"
    );
}

#[test]
fn d20_selectors() {
    let f = [6, 5, 1, 3];
    assert_eq!(total("4d6k>3", &f), 11);
    assert_eq!(total("4d6k<4", &f), 4);
    assert_eq!(total("4d6k=5", &f), 5);
    assert_eq!(total("4d6p<4", &f), 11);
    assert_eq!(total("4d6p>4", &f), 4);
    assert_eq!(total("4d6p5", &f), 10);
    assert_eq!(total("4d6p=5", &f), 10);
    assert_eq!(total("4d6ph1", &f), 9);
    assert_eq!(total("4d6pl1", &f), 14);
}

#[test]
fn rerolls() {
    let r = scripted("1d6rr<3", 6, &[1, 2, 5]);
    assert_eq!(r.total, 5);
    assert_eq!(flags(&r), [(1, false), (2, false), (5, true)]);
    assert_eq!(r.dice_rolled, 3);
    assert_eq!(total("1d6r1", &[1, 1, 4]), 4, "r is recursive");
    assert_eq!(total("1d6r", &[1, 1, 4]), 4, "default: the lowest face");
    assert_eq!(total("1d6ro1", &[1, 1]), 1, "ro rerolls once");
    assert_eq!(total("1d6ro<3", &[2, 6]), 6);
    assert_eq!(total("2d6rr>4", &[5, 2, 6, 1]), 3);
    let r = scripted("2d6ra6", 6, &[6, 6, 3]);
    assert_eq!(r.total, 15, "ra adds one die, once, however many match");
    assert_eq!(r.dice_rolled, 3);
    assert_eq!(total("2d6ra", &[1, 2]), 3);
}

#[test]
fn explosions() {
    let r = scripted("1d6!", 6, &[6, 6, 2]);
    assert_eq!(r.total, 14);
    assert_eq!(r.rendering, "1d6! (6!, 6!, 2) = 14");
    assert_eq!(total("1d6e6", &[6, 6, 2]), 14);
    assert_eq!(total("1d6x", &[6, 6, 2]), 14);
    assert_eq!(total("1d6!>4", &[5, 6, 1]), 12);
    assert_eq!(total("1d6!>=5", &[5, 6, 1]), 12);
    assert_eq!(total("1d6!<>6", &[5, 1, 6]), 12);
    let r = scripted("1d6!!", 6, &[6, 6, 2]);
    assert_eq!(r.total, 14);
    assert_eq!(flags(&r), [(14, true)], "compound keeps one die");
    assert_eq!(
        total("1d6!p", &[6, 6, 2]),
        6 + 5 + 1,
        "penetrating dice count one less"
    );
    assert_eq!(total("2d6xo", &[6, 6, 6, 6]), 24, "xo: each die once");
    assert_eq!(total("2d6!kh1", &[6, 1, 5]), 6);
    assert_eq!(
        total("2d6kh1!", &[6, 1, 5]),
        11,
        "explode after keep explodes kept dice"
    );
}

#[test]
fn clamps_markers_sort() {
    let f = [6, 5, 1, 3];
    assert_eq!(total("4d6mi3", &f), 17);
    assert_eq!(total("4d6min3", &f), 17);
    assert_eq!(total("4d6ma4", &f), 12);
    assert_eq!(total("4d6max4", &f), 12);
    let r = scripted("1d20cs>18", 20, &[19]);
    assert_eq!(r.total, 19, "cs marks, it does not count");
    assert_eq!(r.rendering, "1d20cs>18 (**19**) = 19");
    let r = scripted("1d20cs>19", 20, &[19]);
    assert_eq!(
        r.rendering, "1d20cs>19 (19) = 19",
        "compare points are strict"
    );
    let r = scripted("1d6cf<3", 6, &[2]);
    let NodeKind::Dice { dice, .. } = &r.tree.kind else {
        panic!()
    };
    assert!(dice[0].crit_fail() && !dice[0].crit_success());
    assert_eq!(scripted("4d6s", 6, &f).rendering, "4d6s (1, 3, 5, 6) = 15");
    assert_eq!(
        scripted("4d6sd", 6, &f).rendering,
        "4d6sd (6, 5, 3, 1) = 15"
    );
    assert_eq!(
        scripted("4d6kh3sa", 6, &f).rendering,
        "4d6kh3sa (~~1~~, 3, 5, 6) = 14"
    );
}

#[test]
fn sets_and_groups() {
    assert_eq!(scripted("(1d20, 10)kh1", 20, &[4]).total, 10);
    assert_eq!(scripted("(1d20, 10)kh1", 20, &[15]).total, 15);
    assert_eq!(value_of("{2, 5, 3}kh2"), 8);
    assert_eq!(value_of("{1, 2, 3}dl1"), 5);
    assert_eq!(value_of("{1, 2, 3}k>1"), 5);
    assert_eq!(value_of("{1, 2, 3}p2"), 4);
    assert_eq!(value_of("()"), 0);
    assert_eq!(value_of("{}"), 0);
    assert_eq!(value_of("(5,)"), 5);
    assert_eq!(value_of("(1, 2, 3,)"), 6);
    let r = scripted("{4d6kh3, 4d6kh3}kh1", 6, &[6, 5, 1, 3, 2, 2, 2, 2]);
    assert_eq!(r.total, 14);
    assert_eq!(
        r.rendering,
        "{4d6kh3 (6, 5, ~~1~~, 3), ~~4d6kh3 (~~2~~, 2, 2, 2)~~}kh1 = 14"
    );
    assert_eq!(
        scripted("(1d20, 10)kh1", 20, &[4]).rendering,
        "(~~1d20 (4)~~, 10)kh1 = 10"
    );
}

#[test]
fn renderings() {
    assert_eq!(
        scripted("4d6kh3 + 5", 6, &[6, 5, 1, 3]).rendering,
        "4d6kh3 (6, 5, ~~1~~, 3) + 5 = 19"
    );
    assert_eq!(
        scripted("(1d8+4)*2", 8, &[3]).rendering,
        "(1d8 (3) + 4) * 2 = 14"
    );
    assert_eq!(scripted("1d20", 20, &[20]).rendering, "1d20 (**20**) = 20");
    assert_eq!(
        scripted("floor(1d6/2)", 6, &[5]).rendering,
        "floor(1d6 (5) / 2) = 2"
    );
    assert_eq!(scripted("-1d4", 4, &[3]).rendering, "-1d4 (3) = -3");
    assert_eq!(
        scripted("1d6rr1", 6, &[1, 4]).rendering,
        "1d6rr1 (~~1~~, 4) = 4"
    );
    let mixed = |src: &str, faces: &[(i64, i64, u32)]| {
        roll(
            &parse(src).unwrap(),
            &NoValues,
            &opts(),
            &mut Script::new(faces),
        )
        .unwrap()
        .rendering
    };
    assert_eq!(
        mixed("(1d4)d6", &[(2, 1, 4), (3, 1, 6), (4, 1, 6)]),
        "(1d4 (2))d6 (3, 4) = 7"
    );
    assert_eq!(
        mixed("2d(1d6)", &[(3, 1, 6), (1, 1, 3), (2, 1, 3)]),
        "2d(1d6 (3)) (1, 2) = 3"
    );
    assert_eq!(
        mixed("4dF", &[(-1, -1, 3), (0, -1, 3), (1, -1, 3), (1, -1, 3)]),
        "4dF (-1, 0, 1, 1) = 1"
    );
    assert_eq!(scripted("1+2+3-4", 6, &[]).rendering, "1 + 2 + 3 - 4 = 2");
}

#[test]
fn tree_serializes() {
    let r = scripted("4d6kh3 + 5 [bonus]", 6, &[6, 5, 1, 3]);
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["total"], 19);
    assert_eq!(v["tree"]["type"], "chain");
    let dice = &v["tree"]["links"][0]["node"];
    assert_eq!(dice["type"], "dice");
    assert_eq!(dice["notation"], "4d6kh3");
    assert_eq!(dice["count"], 4);
    assert_eq!(dice["dice"][2]["face"], 1);
    assert_eq!(dice["dice"][2]["dropped"], true);
    assert_eq!(dice["dice"][0]["kept"], true);
    assert!(v["tree"]["links"][0].get("op").is_none());
    assert_eq!(v["tree"]["links"][1]["op"], "+");
    assert_eq!(v["tree"]["links"][1]["node"]["labels"][0], "bonus");
    assert!(v.get("seed").is_none());
}

#[test]
fn seeds_replay() {
    let src = "10d10! + 4d6kh3 + 1d20ro1";
    let a = roll_str(src, &NoValues, &opts(), Some(42)).unwrap();
    let b = roll_str(src, &NoValues, &opts(), Some(42)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.seed, Some(42));
    let distinct: std::collections::HashSet<String> = (0..20)
        .map(|s| {
            roll_str(src, &NoValues, &opts(), Some(s))
                .unwrap()
                .rendering
        })
        .collect();
    assert!(distinct.len() > 15);
    let fresh = roll_str(src, &NoValues, &opts(), None).unwrap();
    let seed = fresh.seed.unwrap();
    assert_eq!(
        roll_str(src, &NoValues, &opts(), Some(seed)).unwrap(),
        fresh
    );
    // The same stream through the lower-level API.
    let expr = parse(src).unwrap();
    let t1 = roll_total(&expr, &NoValues, &opts(), &mut rng_from_seed(9)).unwrap();
    let t2 = roll(&expr, &NoValues, &opts(), &mut rng_from_seed(9))
        .unwrap()
        .total;
    assert_eq!(
        t1, t2,
        "the fast path and the explained path roll the same dice"
    );
}

#[test]
fn natural_rolls() {
    let r = scripted("1d20+5", 20, &[20]);
    assert!(r.nat20 && !r.nat1);
    assert_eq!(r.natural, Some(20));
    let r = scripted("1d20+5", 20, &[1]);
    assert!(r.nat1);
    let r = roll(
        &parse("1d4+1d20").unwrap(),
        &NoValues,
        &opts(),
        &mut Script::new(&[(2, 1, 4), (20, 1, 20)]),
    )
    .unwrap();
    assert_eq!(
        r.natural,
        Some(20),
        "the leftmost d20, not the leftmost die"
    );
    assert_eq!(scripted("2d20kh1", 20, &[1, 15]).natural, Some(15));
    assert_eq!(scripted("2d20kl1", 20, &[1, 15]).natural, Some(1));
    assert_eq!(scripted("1d6", 6, &[6]).natural, None);
}

#[test]
fn advantage_and_disadvantage() {
    let adv = RollOptions {
        advantage: true,
        ..opts()
    };
    let dis = RollOptions {
        disadvantage: true,
        ..opts()
    };
    let r = scripted_with("1d20+5", 20, &[3, 17], &adv);
    assert_eq!(r.total, 22);
    assert!(r.advantage_applied);
    assert_eq!(r.rendering, "2d20kh1 (~~3~~, 17) + 5 = 22");
    let r = scripted_with("1d20+5", 20, &[20, 1], &dis);
    assert_eq!(r.total, 6);
    assert!(r.nat1);
    let r = scripted_with("d20ro1", 20, &[1, 9, 4], &adv);
    assert_eq!(r.rendering, "2d20ro1kh1 (~~**1**~~, 9, ~~4~~) = 9");
    let r = scripted_with("2d20kh1", 20, &[3, 17], &adv);
    assert!(!r.advantage_applied);
    let both = RollOptions {
        advantage: true,
        disadvantage: true,
        ..opts()
    };
    let r = scripted_with("1d20", 20, &[3, 17], &both);
    assert_eq!((r.total, r.advantage_applied), (3, false));
}

#[test]
fn maximize_minimize() {
    let max = RollOptions {
        maximize: true,
        ..opts()
    };
    let min = RollOptions {
        minimize: true,
        ..opts()
    };
    let t = |s: &str, o: &RollOptions| roll_str(s, &NoValues, o, None).unwrap().total;
    assert_eq!(t("4d6kh3+2", &max), 20);
    assert_eq!(t("4d6kh3+2", &min), 5);
    assert_eq!(t("1d20rr1", &min), 2);
    assert_eq!(t("1d20rr>18", &max), 18);
    assert_eq!(t("1d6!", &max), 6);
    assert_eq!(t("8d6", &max), 48);
}

#[test]
fn budget_is_shared_across_terms_rerolls_and_explosions() {
    let r = roll_str("500d6+500d6", &NoValues, &opts(), Some(3)).unwrap();
    assert_eq!(r.dice_rolled, 1000);
    let e = roll_str("500d6+500d6r<6", &NoValues, &opts(), Some(3)).unwrap_err();
    assert_eq!((e.kind, e.offset), (ErrorKind::TooManyRolls, 11));
    let e = roll_str("1000d6!", &NoValues, &opts(), Some(3)).unwrap_err();
    assert_eq!((e.kind, e.offset), (ErrorKind::TooManyRolls, 6));
    let e = roll_str("2d1000000rr<1000000", &NoValues, &opts(), Some(3)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooManyRolls);
}
