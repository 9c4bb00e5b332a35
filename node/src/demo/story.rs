//! The demo's story: one person's parcours across two territories, played with the commands a
//! hub's staff would type, through a cut link and back.

use super::*;

/// The story of one person; returns her carnet code.
pub(super) fn story(fed: &Federation) -> Result<String> {
    let today = maillage_core::date::day_of_millis(maillage_app::clock::Clock::now_ms(
        &maillage_app::clock::SystemClock,
    ));
    let year = format_date(today)[..4].to_string();
    let batch = format!("13-{year}-CAF-01");
    let desk = "CAF des Bouches-du-Rhône, accueil de Martigues";

    say(t(
        "4. Hub du Sud émet des Pass numériques financés par la CAF des Bouches-du-Rhône ;\n   Hub Nouvelle-Aquitaine qualifie l'espace France services de Barbezieux pour les accepter.",
        "4. Hub du Sud issues Pass numérique vouchers funded by the CAF des Bouches-du-Rhône;\n   Hub Nouvelle-Aquitaine qualifies the France services desk of Barbezieux to accept them.",
    ));
    fed.cmd(
        SUD,
        &[
            "voucher",
            "issue",
            "--batch",
            &batch,
            "--funder",
            "CAF des Bouches-du-Rhône",
            "--funder-siret",
            "53418890200012",
            "--count",
            "10",
            "--valid-from",
            &format_date(today - 30),
            "--valid-until",
            &format_date(today + 300),
            "--redeem-deadline",
            &format_date(today + 330),
        ],
    )?;
    let barbezieux = fed.json(NA, &["venues", "show", BARBEZIEUX, "--json"])?["venue_id"]
        .as_str()
        .context(t(
            "le lieu de Barbezieux n'a pas d'identifiant",
            "the Barbezieux venue has no id",
        ))?
        .to_string();
    fed.cmd(
        NA,
        &[
            "venues",
            "qualify",
            &barbezieux,
            "--until",
            &format_date(today + 365),
            "--service",
            "démarches",
        ],
    )?;
    fed.replicated(&[0, 1, 2, 3])?;

    say(t(
        "5. Au guichet de la CAF à Martigues, une conseillère voit qu'une femme ne peut pas faire ses démarches en ligne.\n   Le guichet tire un code de carnet (ni nom, ni adresse), l'oriente, et lui remet cinq pass.",
        "5. At the CAF desk in Martigues, an advisor sees that a woman cannot file her forms online.\n   The desk draws a carnet code (no name, no address), refers her, and hands her five vouchers.",
    ));
    let person = fed.cmd(SUD, &["person", "new"])?;
    let person = person.lines().next().unwrap_or_default().trim().to_string();
    let opened = fed.cmd(
        SUD,
        &[
            "referral",
            "open",
            "--person",
            &person,
            "--prescriber-kind",
            "CAF",
            "--prescriber",
            desk,
            "--need",
            "Aide aux démarches administratives",
            "--service-territory",
            "13",
        ],
    )?;
    let referral = opened
        .lines()
        .find_map(|l| {
            l.strip_prefix("identifiant de l'orientation : ")
                .or_else(|| l.strip_prefix("referral id: "))
        })
        .context(t(
            "referral open n'a affiché aucun identifiant",
            "referral open printed no id",
        ))?
        .trim()
        .to_string();
    fed.cmd(
        SUD,
        &[
            "voucher",
            "hand-out",
            "--carnet",
            &format!("{batch}:1-5"),
            "--person",
            &person,
            "--prescriber-kind",
            "CAF",
            "--prescriber",
            desk,
            "--referral",
            &referral,
        ],
    )?;

    say(t(
        "6. Elle déménage en Charente avant son rendez-vous. Hub du Sud réoriente vers l'espace\n   France services de Barbezieux ; Hub Nouvelle-Aquitaine accepte l'orientation là-bas.",
        "6. She moves to Charente before her appointment. Hub du Sud forwards the referral to the\n   France services desk of Barbezieux; Hub Nouvelle-Aquitaine accepts it there.",
    ));
    fed.cmd(
        SUD,
        &["referral", "forward", &referral, "--to-venue", &barbezieux],
    )?;
    fed.replicated(&[0, 1, 2, 3])?;
    fed.cmd(
        NA,
        &["referral", "accept", &referral, "--venue", &barbezieux],
    )?;

    say(t(
        "7. À Barbezieux, elle utilise un pass de Hub du Sud. Son nouveau hub demande d'abord au propriétaire\n   de le lui transférer, en ligne : un pass a un seul propriétaire à la fois, il ne peut donc jamais servir deux fois.",
        "7. In Barbezieux she redeems a voucher of Hub du Sud. Her new hub asks the owner to transfer it\n   first, online: a voucher has one owner at a time, so it can never be redeemed twice.",
    ));
    let first = format!("{batch}-1");
    let second = format!("{batch}-2");
    let redeem = |serial: &str| {
        fed.cmd(
            NA,
            &[
                "voucher",
                "redeem",
                serial,
                "--venue",
                &barbezieux,
                "--service",
                "démarches",
            ],
        )
    };
    redeem(&first)?;
    fed.replicated(&[0, 1, 2, 3])?;

    say(t(
        "8. La connexion internet de Hub du Sud tombe.",
        "8. Hub du Sud's internet link goes down.",
    ));
    fed.board.set_down(&fed.listen[SUD], true);
    println!(
        "   {}",
        t(
            "Son encaissement suivant ne peut pas joindre le propriétaire : il est enregistré comme une réclamation, que les autres\n   nœuds reçoivent et gardent ; le pass reste remis jusqu'à la réponse de son propriétaire.",
            "Her next redemption cannot reach the owner: it is recorded as a claim, which the other\n   nodes receive and hold; the voucher stays handed out until its owner answers."
        )
    );
    redeem(&second)?;
    fed.replicated(&[1, 2, 3])?;
    fed.cmd(OBSERVER, &["voucher", "status", &second])?;

    say(t(
        "9. La connexion revient. Hub du Sud reçoit la réclamation, vérifie que le pass a été remis\n   et jamais utilisé, et l'accepte : l'encaissement prend effet partout.",
        "9. The link returns. Hub du Sud receives the claim, checks that the voucher was handed out\n   and never redeemed, and accepts it: the redemption takes effect everywhere.",
    ));
    fed.board.set_down(&fed.listen[SUD], false);
    let started = Instant::now();
    loop {
        let status = fed.json(NA, &["voucher", "status", &second, "--json"])?;
        if status["status"] == "redeemed" {
            break;
        }
        if started.elapsed() > PATIENCE {
            bail!(
                "{}",
                tr!(
                    "la réclamation sur {second} n'a pas eu de réponse en {PATIENCE:?} : {status}",
                    "the claim on {second} was not answered within {PATIENCE:?}: {status}"
                )
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let ms = started.elapsed().as_millis();
    println!(
        "     {}",
        tr!(
            "(réponse revenue à Hub Nouvelle-Aquitaine {ms} ms après le retour de la connexion)",
            "(answered and back at Hub Nouvelle-Aquitaine {ms} ms after the link returned)"
        )
    );
    fed.cmd(NA, &["voucher", "status", &second])?;
    fed.cmd(
        NA,
        &["referral", "close", &referral, "--outcome", "completed"],
    )?;

    say(t(
        "10. L'observateur national lit son parcours dans les deux territoires, et vérifie chaque signature.",
        "10. The national observer reads her parcours across both territories, and checks every signature.",
    ));
    fed.replicated(&[0, 1, 2, 3])?;
    fed.cmd(OBSERVER, &["parcours", &person])?;
    fed.cmd(OBSERVER, &["log", "verify"])?;

    say(t(
        "11. Chaque nœud finit sur la même empreinte.",
        "11. Every node ends on the same digest.",
    ));
    fed.converge(&[0, 1, 2, 3])?;
    for node in 0..fed.names.len() {
        let (digest, events) = fed.digest(node)?;
        println!(
            "   {:<28} {}",
            fed.names[node],
            tr!(
                "{events} événements   empreinte {digest}",
                "{events} events   digest {digest}"
            )
        );
    }
    Ok(person)
}
