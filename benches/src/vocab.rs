//! The generator's vocabulary: common English words, a hand list of
//! conflict-reporting words, and inflections generated from both, ranked so
//! that a Zipf sampler gives realistic term statistics.

/// Function words: the head of the Zipf curve.
const FUNCTION: &str = "the of and to in a that for on was with by said at as from \
is were it had have their they he his an be which after who has not are been but \
this its more than also over into near about when while during least other two three \
some many where would could there all one four five several dozens since between \
against under before later early late what them our we you told later according";

/// Common English words (nouns, verbs, adjectives) of news prose.
const COMMON: &str = "people day week month year time area city town village road \
house home family children women men school hospital market street night morning \
evening local region official government minister ministry president spokesman \
spokeswoman statement report reports source sources witness resident residents group \
number part side country capital border north south east west northern southern \
eastern western central province district team office plan talk talks meeting \
support help need call say tell know come take give make go see find leave begin \
continue return move open close hold keep bring run turn show hear try work seek \
new old large small major main key last first second third next recent former \
local national international regional public private senior top high low long short \
heavy light full clear own same different further little great important possible \
water food fuel power electricity price aid money cash bank business trade \
truck car bus vehicle building bridge airport port station camp tent shelter \
phone video image photo footage social media post account channel website \
agency news press radio television broadcast journalist reporter newspaper";

/// Conflict-reporting vocabulary (about 400 stems).
const DOMAIN: &str = "attack attacks attacker raid ambush airstrike strike shelling \
bombardment bomb bombing explosion blast explosive device roadside suicide bomber \
mortar rocket missile drone artillery gunfire clash clashes fighting offensive \
counteroffensive assault siege blockade incursion ceasefire truce negotiation \
mediation kill killed killing dead death toll casualties wounded injured injury \
civilian civilians soldier soldiers troops army military police policeman officer \
commander fighter fighters militant militants insurgent insurgents rebel rebels \
militia militiamen jihadist jihadists gunman gunmen kidnap kidnapping abduction \
hostage hostages captive ransom release prisoner detainee detention arrest arrested \
checkpoint convoy patrol base outpost barracks garrison frontline front trench \
position positions territory control seize seized capture captured retake withdraw \
withdrawal retreat advance advanced deploy deployment reinforcement reinforcements \
operation operations mission peacekeeper peacekeepers peacekeeping unit brigade \
battalion division regiment special forces force forces security intelligence \
coalition alliance faction armed movement insurgency rebellion uprising coup junta \
regime opposition separatist separatists extremist extremists terrorist terrorism \
terror threat threats violence violent unrest protest protesters demonstration riot \
crackdown curfew emergency evacuate evacuation displaced displacement refugee \
refugees flee fled fleeing humanitarian relief famine hunger malnutrition cholera \
outbreak epidemic shortage convoy corridor access besieged encircled stranded \
massacre atrocity atrocities abuse abuses violation violations rights investigation \
investigate investigator accountability court tribunal sanction sanctions embargo \
weapon weapons arms ammunition rifle grenade launcher tank tanks armoured helicopter \
jet aircraft warplane fighter-jet airbase airfield runway airspace interceptor \
interception intercepted shot shoot shooting sniper sniper-fire landmine mine mines \
ordnance unexploded demining cluster munition munitions warhead ballistic cruise \
strike-drone loitering kamikaze anti-aircraft air-defence radar surveillance \
reconnaissance satellite imagery geolocated verified unverified claim claimed \
responsibility denied deny denial accuse accused accusation blame blamed condemn \
condemned condemnation warn warned warning vow vowed pledge pledged retaliate \
retaliation reprisal revenge escalation escalate de-escalation tension tensions \
hostilities dispute disputed contested frontier boundary enclave pocket stronghold \
hideout cell cells network recruit recruitment recruits child-soldiers \
smuggling smuggler trafficking trafficker gang gangs cartel cartels extortion \
looting looted burned torched destroyed destruction damage damaged rubble collapse \
infrastructure grid dam pipeline oilfield refinery mine-site gold cobalt \
cattle herders farmers pastoralist pastoralists land dispute communal ethnic \
tribal clan clans elders chief village-chief chiefdom sultan emir imam mosque church \
worshippers funeral mourners burial grave graves mass-grave exhumation \
election elections vote ballot polling campaign candidate parliament lawmaker \
negotiator envoy diplomat diplomatic embassy consulate delegation summit accord \
agreement deal peace process roadmap transition transitional council authority \
authorities administration governor mayor prefect administrator district-commissioner \
spokesperson monitor monitors observer observers watchdog ngo charity volunteers \
medic medics doctor doctors nurse clinic ambulance morgue bodies body corpse \
survivor survivors victim victims eyewitness eyewitnesses testimony footage \
bullet bullets shrapnel fragments crater craters impact impacts wreckage debris \
fire fires blaze smoke siren sirens alert shelter bunker basement underground tunnel \
tunnels crossing crossings bridgehead river riverbank valley mountain mountains \
hill hills ridge forest bush desert highway motorway junction outskirts suburb \
neighbourhood quarter compound facility depot warehouse storage stockpile \
logistics supply supplies resupply route routes corridor airlift airdrop \
mobilisation mobilization conscription conscript conscripts draft deserter \
defector defectors surrender surrendered amnesty disarmament demobilisation \
reintegration ex-combatants veterans pension salary salaries unpaid mutiny \
infighting rival rivals splinter offshoot affiliate affiliated loyal loyalist \
loyalists pro-government anti-government government-held rebel-held \
militant-held jihadist-held regime-controlled disputed-area no-go buffer zone \
demilitarised demarcation annexation occupation occupied occupying liberation \
liberated";

/// The ranked vocabulary (function words first, then common and domain words
/// with their inflections interleaved deterministically).
pub fn ranked_words() -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push = |w: String, words: &mut Vec<String>| {
        if seen.insert(w.clone()) {
            words.push(w);
        }
    };
    for w in FUNCTION.split_whitespace() {
        push(w.to_string(), &mut words);
    }
    let stems: Vec<&str> = COMMON
        .split_whitespace()
        .chain(DOMAIN.split_whitespace())
        .collect();
    // Base forms first, then each inflection family: rarer forms rank lower.
    for w in &stems {
        push(w.to_string(), &mut words);
    }
    for suffix in ["s", "ed", "ing", "er", "ly", "ness", "ment", "ers", "ings"] {
        for w in &stems {
            if let Some(form) = inflect(w, suffix) {
                push(form, &mut words);
            }
        }
    }
    for prefix in ["re", "un", "counter", "pre", "non", "post"] {
        for w in &stems {
            if w.len() > 3 && !w.contains('-') {
                push(format!("{prefix}{w}"), &mut words);
            }
        }
    }
    // Interleave so that the tail is a mix of stems, not alphabetical runs.
    let head = FUNCTION.split_whitespace().count().min(words.len());
    let mut tail = words.split_off(head);
    let mut rng = crate::rng::Rng::new(0x05EE_D0F0_CAB0_1A27);
    // Shuffle within windows: keeps base forms before inflections on average.
    for chunk in tail.chunks_mut(400) {
        for i in (1..chunk.len()).rev() {
            let j = rng.below(i + 1);
            chunk.swap(i, j);
        }
    }
    words.extend(tail);
    words
}

fn inflect(w: &str, suffix: &str) -> Option<String> {
    if w.contains('-') {
        return (suffix == "s").then(|| format!("{w}s"));
    }
    let last = w.chars().last()?;
    let form = match suffix {
        "s" if w.ends_with('s') || w.ends_with('x') || w.ends_with("sh") || w.ends_with("ch") => {
            format!("{w}es")
        }
        "s" if last == 'y' && !w.ends_with("ay") && !w.ends_with("ey") => {
            format!("{}ies", &w[..w.len() - 1])
        }
        "ed" | "ing" | "er" | "ers" | "ings" if last == 'e' => {
            format!("{}{suffix}", &w[..w.len() - 1])
        }
        "ed" if last == 'y' && !w.ends_with("ay") => format!("{}ied", &w[..w.len() - 1]),
        "ly" if last == 'y' => format!("{}ily", &w[..w.len() - 1]),
        _ => format!("{w}{suffix}"),
    };
    Some(form)
}

/// Weekday phrases used for event dates.
pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Outlets for syndication notices and JSON `source` fields.
pub const OUTLETS: [&str; 16] = [
    "NDTV",
    "Reuters",
    "AFP",
    "Associated Press",
    "Al Jazeera",
    "The Hindu",
    "Dawn",
    "The Kyiv Independent",
    "Premium Times",
    "Radio Dabanga",
    "Garowe Online",
    "The New Arab",
    "Daily Sabah",
    "Business Standard",
    "Devdiscourse",
    "The Defense Post",
];
