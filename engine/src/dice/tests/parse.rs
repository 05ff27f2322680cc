//! Grammar: precedence, numbers, functions, references, labels, comments, errors and offsets.

use super::*;
use crate::dice::ErrorKind::*;
use std::collections::HashMap;

#[test]
fn arithmetic_and_precedence() {
    let cases = [
        ("2+3*4", 14),
        ("(2+3)*4", 20),
        ("-2**2", -4),
        ("2**3**2", 512),
        ("2**-1*4", 2),
        ("--3", 3),
        ("+-3", -3),
        ("10-2-3", 5),
        ("7//2", 3),
        ("-7//2", -4),
        ("7%3", 1),
        ("-7%3", 2),
        ("7%-3", -2),
        ("7/2", 3),
        ("-7/2", -4),
        ("7/2+7/2", 7),
        ("1.5*2", 3),
        (".5+.5", 1),
        ("2.25*4", 9),
        ("  1 +\t2\n", 3),
    ];
    for (src, want) in cases {
        assert_eq!(value_of(src), want, "{src}");
    }
}

#[test]
fn comparisons_are_one_or_zero() {
    let cases = [
        ("3>2", 1),
        ("3<2", 0),
        ("2==2", 1),
        ("3!=3", 0),
        ("3 != 4", 1),
        ("3>=3", 1),
        ("3<=2", 0),
        ("1<2<3", 1),
        ("3>2>1", 0),
        ("1+1==2", 1),
        ("7/2 > 3", 1),
    ];
    for (src, want) in cases {
        assert_eq!(value_of(src), want, "{src}");
    }
}

#[test]
fn functions() {
    let cases = [
        ("floor(7/2)", 3),
        ("ceil(7/2)", 4),
        ("round(5/2)", 3),
        ("round(-5/2)", -3),
        ("round(-2.5)", -3),
        ("round(2.4)", 2),
        ("abs(-3)", 3),
        ("min(3, 1, 2)", 1),
        ("max(3, 1, 2)", 3),
        ("max(1)", 1),
        ("floor(-7/2)", -4),
        ("ceil(-7/2)", -3),
        ("floor( 1d1 / 2 )", 0),
    ];
    for (src, want) in cases {
        assert_eq!(value_of(src), want, "{src}");
    }
}

#[test]
fn exact_value_kept_total_floored() {
    let r = roll_str("7/2", &NoValues, &opts(), Some(1)).unwrap();
    assert_eq!(r.total, 3);
    assert_eq!(r.value, Rational::new(7, 2).unwrap());
    let r = roll_str("-7/2", &NoValues, &opts(), Some(1)).unwrap();
    assert_eq!(r.total, -4);
}

#[test]
fn dice_forms() {
    let max = RollOptions {
        maximize: true,
        ..opts()
    };
    let m = |s: &str| roll_str(s, &NoValues, &max, Some(1)).unwrap().total;
    assert_eq!(m("d20"), 20);
    assert_eq!(m("D20"), 20);
    assert_eq!(m("d%"), 100);
    assert_eq!(m("4dF"), 4);
    assert_eq!(m("4df"), 4);
    assert_eq!(m("(1+2)d6"), 18);
    assert_eq!(m("2d(3*2)"), 12);
    assert_eq!(m("(1d4)d6"), 24);
    assert_eq!(m("0d6"), 0);
    assert_eq!(m("3d6>10"), 1, "3d6>10 compares the total");
    let min = RollOptions {
        minimize: true,
        ..opts()
    };
    assert_eq!(roll_str("4dF", &NoValues, &min, Some(1)).unwrap().total, -4);
    assert_eq!(roll_str("d%", &NoValues, &min, Some(1)).unwrap().total, 1);
}

#[test]
fn bang_equals_attached_explodes_spaced_compares() {
    let attached = parse("1d6!=3").unwrap();
    assert_eq!(attached.dice[0].ops.len(), 1);
    assert!(matches!(
        attached.dice[0].ops[0].kind,
        ast::OpKind::Explode(ast::Explode::Each, Some(cp)) if cp == ast::Cp::eq(3)
    ));
    for spaced in ["1d6 != 3", "1d6!= 3", "1d6 !=3"] {
        let e = parse(spaced).unwrap();
        assert!(e.dice[0].ops.is_empty(), "{spaced}");
        assert!(
            e.code.iter().any(|i| i.op == ast::Op::Bin(ast::BinOp::Ne)),
            "{spaced}"
        );
    }
    let compound = parse("1d6!!=3").unwrap();
    assert!(matches!(
        compound.dice[0].ops[0].kind,
        ast::OpKind::Explode(ast::Explode::Compound, Some(cp)) if cp == ast::Cp::eq(3)
    ));
    // Scripted: 3 explodes, then 3 again, then 1 stops.
    assert_eq!(scripted("1d6!=3", 6, &[3, 3, 1]).total, 7);
    assert_eq!(scripted("1d6 != 3", 6, &[3]).total, 0);
    assert_eq!(scripted("1d6 != 3", 6, &[4]).total, 1);
}

#[test]
fn labels_and_comments() {
    let r = scripted("2d6[fire] [magic] + 3[bonus] # smite", 6, &[3, 4]);
    assert_eq!(r.total, 10);
    assert_eq!(r.comment.as_deref(), Some("smite"));
    assert_eq!(r.rendering, "2d6 (3, 4) [fire] [magic] + 3 [bonus] = 10");
    let NodeKind::Chain { links } = &r.tree.kind else {
        panic!("{:?}", r.tree)
    };
    assert_eq!(links[0].node.labels, ["fire", "magic"]);
    assert_eq!(links[1].node.labels, ["bonus"]);
    assert_eq!(parse("1d20 #").unwrap().comment(), None);
    assert_eq!(parse("(1d4)[cold]").unwrap().labels.len(), 1);
}

#[test]
fn references() {
    let values = serde_json::json!({
        "str": 3,
        "abilities": {"dex": {"mod": -1}},
        "Str Mod": 2,
        "dmg": "1d8+3",
        "atk": "1d20 + @str",
    });
    let max = RollOptions {
        maximize: true,
        ..opts()
    };
    let t = |s: &str| roll_str(s, &values, &max, Some(1)).unwrap();
    assert_eq!(t("@str").total, 3);
    assert_eq!(t("10+@abilities.dex.mod").total, 9);
    assert_eq!(t("@{Str Mod}*2").total, 4);
    assert_eq!(t("@{ Str Mod }").total, 2);
    // A formula is a parenthesised group: 2*(1d8+3), not 2*1d8+3.
    let r = t("2*@dmg");
    assert_eq!(r.total, 22);
    assert_eq!(r.rendering, "2 * (1d8 (8) + 3) = 22");
    assert_eq!(t("@atk").total, 23, "formulas may refer to values");
    let mut flat = HashMap::new();
    flat.insert("str".to_string(), 5i64);
    assert_eq!(roll_str("@str+1", &flat, &opts(), None).unwrap().total, 6);
    let e = roll_str("1+@dex", &values, &opts(), None).unwrap_err();
    assert_eq!((e.kind, e.offset), (UnknownVariable, 2));
    assert!(parse("@str").unwrap().has_references());
}

#[test]
fn formula_errors_point_at_the_reference() {
    let values = serde_json::json!({"bad": "1d8+", "loop": "@loop"});
    let e = roll_str("2 + @bad", &values, &opts(), None).unwrap_err();
    assert_eq!((e.kind, e.offset), (UnexpectedEnd, 4));
    assert!(e.message.contains("@bad"), "{}", e.message);
    let e = roll_str("@loop", &values, &opts(), None).unwrap_err();
    assert_eq!(e.kind, NestingTooDeep);
}

#[test]
fn error_kinds_and_offsets() {
    let cases: &[(&str, ErrorKind, usize)] = &[
        ("", UnexpectedEnd, 0),
        ("1+", UnexpectedEnd, 2),
        ("2d", UnexpectedEnd, 2),
        ("1 $ 2", UnexpectedCharacter, 2),
        ("1d20 kh1", UnexpectedCharacter, 5),
        ("1d6x2y", UnexpectedCharacter, 5),
        ("1 = 2", UnexpectedCharacter, 2),
        ("(1+2", UnbalancedParen, 0),
        ("1+2)", UnbalancedParen, 3),
        ("{1,2", UnbalancedParen, 0),
        ("max(1,2", UnbalancedParen, 3),
        ("1d6[fire", UnbalancedParen, 3),
        ("1d0", ZeroSidedDie, 2),
        ("1d(1-1)", ZeroSidedDie, 2),
        ("1d1000001", DieTooLarge, 2),
        ("1001d6", TooManyDice, 0),
        ("600d6+600d6", TooManyDice, 6),
        ("9007199254740993", NumberTooLarge, 0),
        ("2**60", NumberTooLarge, 1),
        ("9007199254740992+1", NumberTooLarge, 16),
        ("1/0", DivisionByZero, 1),
        ("5//(1-1)", DivisionByZero, 1),
        ("5%0", DivisionByZero, 1),
        ("0**-1", DivisionByZero, 1),
        ("1.5d6", InvalidCount, 0),
        ("(0-2)d6", InvalidCount, 0),
        ("4d6kh1.5", InvalidCount, 5),
        ("1d(5/2)", InvalidSides, 2),
        ("1d2.5", InvalidSides, 2),
        ("floor(1,2)", InvalidArgument, 0),
        ("min()", InvalidArgument, 0),
        ("2**0.5", InvalidArgument, 1),
        ("1d6r<2.5", InvalidArgument, 5),
        ("@nope", UnknownVariable, 0),
        ("foo(1)", UnknownFunction, 0),
        ("foo", UnexpectedCharacter, 0),
        ("1d1!", InfiniteExplode, 3),
        ("1d6!>0", InfiniteExplode, 3),
        ("1d6e<7", InfiniteExplode, 3),
        ("1d20rr<21", InfiniteReroll, 4),
        ("1d6r>=1", InfiniteReroll, 3),
        ("4dFr!=5", InfiniteReroll, 3),
        ("1d(1)!", InfiniteExplode, 5),
        ("(1,2)rr1", UnexpectedCharacter, 5),
        ("1d6[é]+$", UnexpectedCharacter, 7),
    ];
    for &(src, kind, offset) in cases {
        assert_eq!(err(src), (kind, offset), "{src}");
    }
}

#[test]
fn errors_serialize_and_display() {
    let e = parse("1+").unwrap_err();
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["kind"], "unexpected_end");
    assert_eq!(v["offset"], 2);
    assert!(e.to_string().contains("at character 2"));
}

#[test]
fn infinite_checks_allow_once_only_variants() {
    assert!(parse("1d1ro1").is_ok());
    assert!(parse("1d1xo").is_ok());
    assert!(parse("1d1ra1").is_ok());
    assert_eq!(scripted("1d1xo", 1, &[1, 1]).total, 2);
}
